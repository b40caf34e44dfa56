/**
 * GET /health/ throughput: a real standalone prodmon App (SQLite store, built-in checks, background loops)
 * against a bare Fastify route answering the same JSON, side by side. Each server runs in its own child
 * process (pinned to CPU 0 where `taskset` exists; autocannon on the other CPUs); autocannon loads one at
 * a time with the same connections and duration, alternating order over rounds. Reported: the ratio of the
 * medians and the median of the per-round ratios. Goal: prodmon >= 90 % of the bare route's req/s.
 *
 *   npx tsx bench/health-endpoint.ts        (BENCH_SECONDS=10, BENCH_ROUNDS=2, BENCH_CONNECTIONS=10)
 */
import { fileURLToPath } from 'node:url';
import {
  autocannon,
  median,
  pct,
  pinned,
  pinSelfAwayFromServer,
  startChild,
  stopChild,
  table,
} from './support.js';

const SECONDS = Math.min(30, Number(process.env.BENCH_SECONDS ?? 10));
const ROUNDS = Math.min(15, Number(process.env.BENCH_ROUNDS ?? 2));
const CONNECTIONS = Math.min(100, Number(process.env.BENCH_CONNECTIONS ?? 10));
const SERVERS = ['bare', 'prodmon'] as const;
type Server = (typeof SERVERS)[number];

/** Child mode: serve one variant on 127.0.0.1 and print its port. */
async function serve(variant: Server): Promise<void> {
  if (variant === 'bare') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    app.get('/health/', async (_req, reply) =>
      reply.header('cache-control', 'no-store').send({ status: 'healthy' }),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    process.stdout.write(`PORT ${(app.server.address() as { port: number }).port}\n`);
    process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
    return;
  }
  const { tempDir } = await import('../test/support/services.js');
  const { App } = await import('../src/app.js');
  const { parseConfig } = await import('../src/config/load.js');
  const dir = tempDir('prodmon-bench-health-');
  const app = new App(parseConfig({ logs: { stdout: false } }, { env: {}, dataDir: dir.path }), {
    fileLogs: false,
  });
  await app.start();
  const url = await app.listen('127.0.0.1', 0);
  await app.health.idle();
  process.stdout.write(`PORT ${new URL(url).port}\n`);
  process.once(
    'SIGTERM',
    () =>
      void app.stop().then(() => {
        dir.cleanup();
        process.exit(0);
      }),
  );
}

async function main(): Promise<void> {
  pinSelfAwayFromServer();
  const file = fileURLToPath(import.meta.url);
  const children = await Promise.all(SERVERS.map((s) => startChild(file, ['--serve', s])));
  const url = (i: number) => `http://127.0.0.1:${children[i]!.port}/health/`;
  const rps: number[][] = SERVERS.map(() => []);
  const p99: number[][] = SERVERS.map(() => []);
  process.stdout.write(
    `GET /health/: ${ROUNDS} rounds x ${SECONDS} s per server, ${CONNECTIONS} connections${pinned() ? ', servers pinned to CPU 0' : ''}\n\n`,
  );
  try {
    for (let i = 0; i < SERVERS.length; i++)
      await autocannon({ url: url(i), connections: CONNECTIONS, duration: 1 });
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const r = await autocannon({ url: url(i), connections: CONNECTIONS, duration: SECONDS });
        if (r.non2xx > 0 || r.errors > 0)
          throw new Error(`${SERVERS[i]}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        rps[i]!.push(r.requests.average);
        p99[i]!.push(r.latency.p99);
      }
    }
  } finally {
    await Promise.all(children.map((c) => stopChild(c.child)));
  }
  const bare = median(rps[0]!);
  const mon = median(rps[1]!);
  table(
    ['server', 'req/s (median)', 'per round', 'p99 ms'],
    SERVERS.map((s, i) => [
      s,
      Math.round(median(rps[i]!)),
      rps[i]!.map(Math.round).join(' / '),
      median(p99[i]!).toFixed(1),
    ]),
  );
  // Each round loads both servers back to back: the median of the per-round ratios resists a busy machine.
  const paired = median(rps[1]!.map((r, k) => r / rps[0]![k]!));
  process.stdout.write(
    `\nprodmon / bare: ${pct(mon / bare)} of the medians, ${pct(paired)} median of per-round ratios (goal >= 90 %): ${paired >= 0.9 ? 'met' : 'NOT met'}\n`,
  );
}

if (process.argv[2] === '--serve') await serve(process.argv[3] as Server);
else await main();
