/**
 * Lines per second through the ProductionLogger (redaction at any depth, rotating file, gzip) against plain
 * pino writing to a file with `pino.destination` (sync, its default; and async), side by side in one run.
 *
 *   npx tsx bench/logger-throughput.ts [lines=300000] [rounds=3]
 *
 * Each round runs every variant once, in turn, on the same lines; the best round of each is reported.
 * Time is measured from the first line until every line is handed to the OS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import pino from 'pino';
import { parseConfig } from '../src/config/load.js';
import { systemClock } from '../src/core/clock.js';
import { createProductionLogger, createRedactor } from '../src/logging/index.js';

const LINES = Number(process.argv[2] ?? 300_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const BATCH = 1000;

type Log = (obj: Record<string, unknown>, msg: string) => void;

/** The line object of the runs below. */
function requestLine(i: number): Record<string, unknown> {
  return {
    reqId: `req-${i}`,
    method: 'GET',
    route: '/orders/:id',
    status: 200,
    durationMs: 12.5,
    user: { id: 42, roles: ['customer'], plan: 'pro' },
    url: 'https://shop.example/orders/1234?ref=mail',
  };
}

/** Nanoseconds per call of the redaction walk alone, on a clean line and on one full of secrets. */
function redactionCost(): { clean: number; dirty: number } {
  const r = createRedactor({ secrets: ['a-config-secret-value'] });
  const dirty = (i: number) => ({
    ...requestLine(i),
    headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sid=1' },
    db: 'postgres://app:pw@db/shop',
    note: `card 4111 1111 1111 1111 and a-config-secret-value #${i}`,
  });
  const time = (make: (i: number) => object) => {
    const n = 200_000;
    const start = performance.now();
    for (let i = 0; i < n; i++) r.value(make(i));
    return ((performance.now() - start) * 1e6) / n;
  };
  time(requestLine); // warm up
  return { clean: time(requestLine), dirty: time(dirty) };
}

/** A request-log-like line: nested object, a URL, numbers; nothing that needs redacting (the common case). */
async function produce(log: Log): Promise<void> {
  for (let i = 0; i < LINES; i++) {
    log(requestLine(i), 'request completed');
    // A server yields between requests; so does the producer, every BATCH lines.
    if (i % BATCH === BATCH - 1) await tick();
  }
}

async function plainPino(dir: string, sync: boolean): Promise<number> {
  const dest = pino.destination({ dest: join(dir, `plain-${sync ? 'sync' : 'async'}.log`), sync });
  const logger = pino(dest);
  const start = performance.now();
  await produce((o, m) => logger.info(o, m));
  if (!sync) await new Promise<void>((r) => dest.flush(() => r()));
  const ms = performance.now() - start;
  dest.end();
  return ms;
}

async function production(dir: string): Promise<number> {
  const config = parseConfig({ logs: { stdout: false } }, { env: {} });
  const logger = createProductionLogger({
    dir: join(dir, 'prod'),
    config: config.logs,
    clock: systemClock,
    secrets: ['a-config-secret-value'],
  });
  const start = performance.now();
  await produce((o, m) => logger.app.info(o, m));
  await logger.flush();
  const ms = performance.now() - start;
  await logger.close();
  return ms;
}

async function main(): Promise<void> {
  const variants: [string, (dir: string) => Promise<number>][] = [
    ['plain pino, pino.destination (sync)', (d) => plainPino(d, true)],
    ['plain pino, pino.destination (async)', (d) => plainPino(d, false)],
    ['ProductionLogger (rotating, redacting)', production],
  ];
  const best = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of variants) {
      const dir = mkdtempSync(join(tmpdir(), 'prodmon-bench-'));
      try {
        const ms = await run(dir);
        best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, ms));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const rate = (name: string) => LINES / (best.get(name)! / 1000);
  process.stdout.write(`${LINES} lines per variant, best of ${ROUNDS} rounds (node ${process.version})\n`);
  for (const [name] of variants) {
    process.stdout.write(
      `  ${name.padEnd(40)} ${Math.round(rate(name)).toLocaleString('en').padStart(10)} lines/s\n`,
    );
  }
  const prod = rate(variants[2]![0]);
  process.stdout.write(
    `ratio ProductionLogger / plain pino (sync):  ${((prod / rate(variants[0]![0])) * 100).toFixed(1)} %\n` +
      `ratio ProductionLogger / plain pino (async): ${((prod / rate(variants[1]![0])) * 100).toFixed(1)} %\n`,
  );
  const cost = redactionCost();
  process.stdout.write(
    `redaction walk alone: ${Math.round(cost.clean)} ns/line (line above), ` +
      `${Math.round(cost.dirty)} ns/line (line with a bearer token, cookie, DSN, card number, config secret)\n`,
  );
}

await main();
