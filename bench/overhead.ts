/**
 * Overhead of prodmon's request instrumentation: a hello-world app bare, with prodmon's middleware, and
 * with the usual prom-client histogram middleware (the peer), for node:http, Express and Fastify.
 * Each server runs in its own child process (pinned to CPU 0 where `taskset` exists, autocannon on the
 * other CPUs); autocannon (50 connections) loads one at a time, in rotating order over many short
 * rounds, and the median of the rounds is kept, so background load hits every variant alike. Prints
 * throughput and p99 side by side, as ratios to bare. The CPU overhead is the median over the rounds
 * of each round's ratio to bare (the three variants of a round run back to back, under about the same
 * background load), which drifts in the machine's load do not move.
 *
 *   node --import tsx bench/overhead.ts            # BENCH_SECONDS=1 BENCH_ROUNDS=9 by default
 *
 * Goal: prodmon >= 95 % of bare throughput, p99 within 10 %, and less overhead than prom-client.
 */
import { fileURLToPath } from 'node:url';
import {
  autocannon,
  childCpu,
  pct,
  pinned,
  pinSelfAwayFromServer,
  startChild,
  stopChild,
  table,
} from './support.js';

const SERVER = fileURLToPath(new URL('./hello-server.ts', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'http,express,fastify').split(',');
const VARIANTS = ['bare', 'prodmon', 'promclient'] as const;
type Variant = (typeof VARIANTS)[number];

interface Figures {
  rps: number[];
  p99: number[];
  /** Server CPU time per request, µs. */
  cpu: number[];
}

/** A ratio - 1 as a signed percentage (`+6.6 %`, `-0.8 %`). */
const signed = (x: number) => `${x >= 0 ? '+' : ''}${pct(x)}`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Result {
  rps: number;
  p99: number;
  cpu: number;
  /** Median over the rounds of (CPU per request / bare's in the same round) - 1. */
  overhead: number;
}

async function measure(framework: string): Promise<Record<Variant, Result>> {
  const children = await Promise.all(VARIANTS.map((v) => startChild(SERVER, [framework, v])));
  const url = (i: number) => `http://127.0.0.1:${children[i]!.port}/hello/42`;
  const figures = VARIANTS.map((): Figures => ({ rps: [], p99: [], cpu: [] }));
  try {
    for (let i = 0; i < VARIANTS.length; i++) await autocannon({ url: url(i), connections: 50, duration: 1 });
    for (let round = 0; round < ROUNDS; round++) {
      const order = [0, 1, 2].map((k) => (k + round) % 3);
      for (const i of order) {
        const cpu0 = await childCpu(children[i]!.child);
        const r = await autocannon({ url: url(i), connections: 50, duration: SECONDS });
        const cpu1 = await childCpu(children[i]!.child);
        figures[i]!.cpu.push((cpu1 - cpu0) / Math.max(1, r.requests.total));
        if (r.non2xx > 0 || r.errors > 0)
          throw new Error(`${framework}/${VARIANTS[i]}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        figures[i]!.rps.push(r.requests.average);
        figures[i]!.p99.push(r.latency.p99);
      }
    }
  } finally {
    await Promise.all(children.map((c) => stopChild(c.child)));
  }
  const bareCpu = figures[0]!.cpu;
  return Object.fromEntries(
    VARIANTS.map((v, i) => [
      v,
      {
        rps: median(figures[i]!.rps),
        p99: median(figures[i]!.p99),
        cpu: median(figures[i]!.cpu),
        overhead: median(figures[i]!.cpu.map((c, round) => c / bareCpu[round]! - 1)),
      },
    ]),
  ) as Record<Variant, Result>;
}

async function main(): Promise<void> {
  const started = performance.now();
  pinSelfAwayFromServer();
  process.stdout.write(
    `overhead: ${FRAMEWORKS.join(', ')}; median of ${ROUNDS} rounds x ${SECONDS} s per variant, 50 connections${pinned() ? ', server pinned to CPU 0' : ''}\n\n`,
  );
  const rows: (string | number)[][] = [];
  const verdicts: string[] = [];
  for (const fw of FRAMEWORKS) {
    const r = await measure(fw);
    const tp = (v: Variant) => r[v].rps / r.bare.rps;
    const lat = (v: Variant) => r[v].p99 / r.bare.p99;
    const cpu = (v: Variant) => r[v].overhead;
    rows.push([
      fw,
      Math.round(r.bare.rps),
      `${Math.round(r.prodmon.rps)} (${pct(tp('prodmon'))})`,
      `${Math.round(r.promclient.rps)} (${pct(tp('promclient'))})`,
      `${r.bare.p99.toFixed(0)} / ${r.prodmon.p99.toFixed(0)} / ${r.promclient.p99.toFixed(0)}`,
      `${r.bare.cpu.toFixed(1)} / ${r.prodmon.cpu.toFixed(1)} / ${r.promclient.cpu.toFixed(1)}`,
      `${signed(cpu('prodmon'))} vs ${signed(cpu('promclient'))}`,
    ]);
    const yes = (b: boolean) => (b ? 'yes' : 'NO');
    verdicts.push(
      `${fw}: throughput >= 95 % ${yes(tp('prodmon') >= 0.95)}, p99 within 10 % ${yes(lat('prodmon') <= 1.1)}, ` +
        `less CPU overhead than prom-client ${yes(cpu('prodmon') < cpu('promclient'))}`,
    );
  }
  table(
    [
      'framework',
      'bare req/s',
      'prodmon req/s (of bare)',
      'prom-client req/s (of bare)',
      'p99 ms bare/prodmon/prom',
      'server CPU µs/req bare/prodmon/prom',
      'CPU overhead prodmon vs prom (median of rounds)',
    ],
    rows,
  );
  process.stdout.write(`\n${verdicts.join('\n')}\n`);
  process.stdout.write(
    '(autocannon reports p99 in whole ms; CPU per request is the steadier figure on a busy machine)\n',
  );
  process.stdout.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
