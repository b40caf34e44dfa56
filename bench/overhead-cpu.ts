/**
 * CPU time per request of the hello-world apps of bench/hello-apps.ts, bare, with prodmon's adapter and
 * with the prom-client middleware, driven in process through in-memory sockets (bench/overhead-driver.ts:
 * 50 keep-alive connections, 50,000 warm-up requests, then 200,000 timed; no network, no load generator).
 * Each run is its own process pinned to one CPU; the variants run in rotating order, BENCH_ROUNDS (5)
 * times, and the median is kept. In process, the CPU time of a request is steady to about 1 % between
 * runs, where autocannon's figures on this VM move by more than the differences (bench/overhead.ts).
 * prodmon's engine has its SQLite store but no timers (as in the instruction count).
 *
 *   node --import tsx bench/overhead-cpu.ts        # about 3 minutes
 *   BENCH_FRAMEWORKS=express,express-handler BENCH_ROUNDS=3 node --import tsx bench/overhead-cpu.ts
 *                                                  # Express with middleware() vs with monitor.handler
 *
 * A served request also pays the kernel's TCP work, which is the same with or without prodmon, so the
 * share prodmon adds to a request served over the network is smaller than the one printed here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleChild, median, table } from './support.js';

const SOURCE = fileURLToPath(new URL('./overhead-driver.ts', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'http,express,fastify').split(',');
const VARIANTS = ['bare', 'prodmon', 'promclient'] as const;
const N = { http: 200_000, express: 30_000, 'express-handler': 30_000, fastify: 200_000 } as Record<
  string,
  number
>;

const started = performance.now();
const child = await bundleChild(SOURCE);
const pin = existsSync('/usr/bin/taskset');

function run(framework: string, variant: string): number {
  const n = N[framework] ?? 100_000;
  const argv = [process.execPath, child, framework, variant, String(n), String(n / 4)];
  const [cmd, ...args] = pin ? ['/usr/bin/taskset', '-c', '0', ...argv] : argv;
  const r = spawnSync(cmd!, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${framework} ${variant}: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { cpuNsPerRequest: number }).cpuNsPerRequest;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
const rows: string[][] = [];
for (const fw of FRAMEWORKS) {
  const got: number[][] = VARIANTS.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const i = (k + r) % VARIANTS.length;
      got[i]!.push(run(fw, VARIANTS[i]!));
    }
  }
  const [bare, prodmon, prom] = got.map(median) as [number, number, number];
  const spread = (xs: number[]) =>
    `${(((Math.max(...xs) - Math.min(...xs)) / median(xs)) * 100).toFixed(1)} %`;
  rows.push([
    fw,
    `${(bare / 1000).toFixed(2)}`,
    `${(prodmon / 1000).toFixed(2)} (${pct(prodmon / bare - 1)})`,
    `${(prom / 1000).toFixed(2)} (${pct(prom / bare - 1)})`,
    `${((bare / prodmon) * 100).toFixed(1)} %`,
    got.map(spread).join(' / '),
  ]);
}
process.stdout.write(`CPU per request in process (median of ${ROUNDS} runs, each pinned to one CPU)\n\n`);
table(
  [
    'framework',
    'bare µs/req',
    'prodmon µs/req (added)',
    'prom-client µs/req (added)',
    'in-process throughput vs bare',
    'spread of runs bare/prodmon/prom',
  ],
  rows,
);
process.stdout.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
