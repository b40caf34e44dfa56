/**
 * Overhead of prodmon's request instrumentation: a hello-world app bare, with prodmon's middleware, and
 * with the usual prom-client histogram middleware (the peer), for node:http, Express and Fastify.
 * Each server runs in its own child process (pinned to CPU 0 where `taskset` exists, autocannon on the
 * other CPUs); autocannon (50 connections) loads one at a time, in rotating order over many short
 * rounds, each variant under two loads per round:
 *
 * - plain (one request at a time per connection, autocannon's default): what clients see; p99 comes
 *   from this load. On a 2-vCPU machine autocannon itself is the bottleneck here (the server is
 *   ~80 % busy), so its throughput understates a server-side cost;
 * - pipelined (10 requests in flight per connection): autocannon's cost per request falls enough
 *   that the server saturates (busy ≥ 95 %, printed), so throughput and CPU per request here are the
 *   server's capacity. Pipelining is a worst case for prodmon: requests queue behind each other on a
 *   connection, which its per-connection slot handles on its slower path.
 *
 * The three variants of a round run back to back, under about the same load of the machine, so every
 * figure compared is paired: a variant's figure is divided by bare's of the same round and load, and
 * the median of those per-round ratios is printed (this VM's speed drifts by tens of percent over
 * minutes, which a ratio of medians over the whole run would carry). p99 is computed from every
 * response's latency as autocannon measured it (float ms), not from autocannon's histogram, which keeps
 * whole milliseconds (3 vs 4 ms would read as +33 %). The p99 verdict pools every plain-load latency of
 * prodmon's rounds against bare's, with a 90 % interval from resampling the rounds (bench/support.ts
 * `pooledRatio`): one round's p99 is decided by the machine's stalls, as the quartiles of the per-round
 * ratios printed beside it show. Every BENCH_ROUNDS_PER_PROCESS (5) rounds the
 * three servers are started anew: pairing by round cannot remove what one process brings to all its
 * rounds (its code's placement, its JIT's choices), and one run with a single set of processes for 40
 * rounds put prodmon at 111 % of bare, the peer at 103 %, while new processes a minute later said 93-96 %.
 * node:http has no router: both prodmon's `wrap` and the peer are given the route template
 * (`/hello/:id`), as an app without a router would pass it; `BENCH_GUESS=1` lets `wrap` guess it from
 * the URL instead (its default; a Map lookup per request).
 *
 *   node --import tsx bench/overhead.ts     # BENCH_SECONDS=1 BENCH_ROUNDS=15 by default, about 6 minutes
 *
 * Goal: prodmon >= 95 % of bare throughput (pipelined: the server's capacity), p99 within 10 % (plain
 * load), and less CPU overhead than prom-client.
 */
import { fileURLToPath } from 'node:url';
import {
  autocannon,
  autocannonLatencies,
  childCpu,
  intervalVerdict,
  LatencyBins,
  median,
  medianInterval,
  pct,
  pinned,
  pinSelfAwayFromServer,
  pooledRatio,
  quantile,
  signedPct,
  startChild,
  stopChild,
  table,
} from './support.js';

const SERVER = fileURLToPath(new URL('./hello-server.ts', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
/** Rounds per set of server processes: each set is new, so no one process's luck decides a figure. */
const ROUNDS_PER_PROCESS = Number(process.env.BENCH_ROUNDS_PER_PROCESS ?? 5);
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'http,express,fastify').split(',');
const VARIANTS = ['bare', 'prodmon', 'promclient'] as const;
type Variant = (typeof VARIANTS)[number];
/** The two loads of every round: requests in flight per connection. */
const LOADS = { plain: 1, pipelined: 10 } as const;
type Load = keyof typeof LOADS;

/** One variant under one load for one round. */
interface Round {
  rps: number;
  /** p99 latency, ms (exact, from every response). */
  p99: number;
  /** Server CPU time per request, µs. */
  cpu: number;
  /** Server CPU time / wall time of the round. */
  busy: number;
}

/**
 * A variant's figures under one load: medians over the rounds, medians of the per-round ratios to bare,
 * and the quartiles of those ratios (how far one round's ratio strays).
 */
type Result = Round & {
  ratio: Round;
  q1: Round;
  q3: Round;
  /** 90 % interval of the median throughput ratio (resampled rounds). */
  rpsInterval: { lo: number; hi: number };
};

/**
 * Rounds `from` to `to` (exclusive) of one framework, in a new process per variant (warmed up first),
 * appended to `rounds`.
 */
async function roundsInNewProcesses(
  framework: string,
  args: string[],
  from: number,
  to: number,
  rounds: Record<Load, Round[][]>,
  plainBins: LatencyBins[][],
): Promise<void> {
  const children = await Promise.all(VARIANTS.map((v) => startChild(SERVER, [framework, v, ...args])));
  const url = (i: number) => `http://127.0.0.1:${children[i]!.port}/hello/42`;
  try {
    for (let i = 0; i < VARIANTS.length; i++) await autocannon({ url: url(i), connections: 50, duration: 1 });
    for (let round = from; round < to; round++) {
      const order = [0, 1, 2].map((k) => (k + round) % 3);
      for (const i of order) {
        for (const load of Object.keys(LOADS) as Load[]) {
          const cpu0 = await childCpu(children[i]!.child);
          const t0 = performance.now();
          const { result: r, latencies } = await autocannonLatencies({
            url: url(i),
            connections: 50,
            duration: SECONDS,
            pipelining: LOADS[load],
          });
          const wall = performance.now() - t0;
          const cpu1 = await childCpu(children[i]!.child);
          if (r.non2xx > 0 || r.errors > 0)
            throw new Error(`${framework}/${VARIANTS[i]}: ${r.non2xx} non-2xx, ${r.errors} errors`);
          if (load === 'plain') plainBins[i]!.push(new LatencyBins(latencies));
          rounds[load][i]!.push({
            rps: r.requests.average,
            p99: quantile(latencies, 0.99),
            cpu: (cpu1 - cpu0) / Math.max(1, r.requests.total),
            busy: (cpu1 - cpu0) / 1000 / wall,
          });
        }
      }
    }
  } finally {
    await Promise.all(children.map((c) => stopChild(c.child)));
  }
}

/** p99 of every plain-load latency of prodmon's rounds pooled vs bare's, with a 90 % interval (see bench/support.ts). */
type Pooled = ReturnType<typeof pooledRatio>;

async function measure(
  framework: string,
): Promise<Record<Load, Record<Variant, Result>> & { pooledP99: Pooled }> {
  const args = process.env.BENCH_GUESS === '1' ? ['guess'] : [];
  const rounds = Object.fromEntries(
    (Object.keys(LOADS) as Load[]).map((l) => [l, VARIANTS.map((): Round[] => [])]),
  ) as Record<Load, Round[][]>;
  const plainBins = VARIANTS.map((): LatencyBins[] => []);
  for (let first = 0; first < ROUNDS; first += ROUNDS_PER_PROCESS) {
    const to = Math.min(ROUNDS, first + ROUNDS_PER_PROCESS);
    await roundsInNewProcesses(framework, args, first, to, rounds, plainBins);
  }
  const summarize = (per: Round[][]): Record<Variant, Result> => {
    const of = (xs: Round[], k: keyof Round) => median(xs.map((x) => x[k]));
    const ratios = (xs: Round[], k: keyof Round) => xs.map((x, j) => x[k] / per[0]![j]![k]);
    const round = (f: (k: keyof Round) => number): Round => ({
      rps: f('rps'),
      p99: f('p99'),
      cpu: f('cpu'),
      busy: f('busy'),
    });
    return Object.fromEntries(
      VARIANTS.map((v, i) => [
        v,
        {
          ...round((k) => of(per[i]!, k)),
          ratio: round((k) => median(ratios(per[i]!, k))),
          q1: round((k) => quantile(ratios(per[i]!, k), 0.25)),
          q3: round((k) => quantile(ratios(per[i]!, k), 0.75)),
          rpsInterval: medianInterval(ratios(per[i]!, 'rps')),
        },
      ]),
    ) as Record<Variant, Result>;
  };
  return {
    plain: summarize(rounds.plain),
    pipelined: summarize(rounds.pipelined),
    pooledP99: pooledRatio(plainBins[0]!, plainBins[1]!, 0.99),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  pinSelfAwayFromServer();
  process.stdout.write(
    `overhead: ${FRAMEWORKS.join(', ')}; ${ROUNDS} rounds x ${SECONDS} s per variant and load, 50 connections, ` +
      `plain and 10 pipelined${pinned() ? ', server pinned to CPU 0' : ''}` +
      `${process.env.BENCH_GUESS === '1' ? ', node:http route guessed by wrap' : ''}\n\n`,
  );
  const rows: (string | number)[][] = [];
  const verdicts: string[] = [];
  for (const fw of FRAMEWORKS) {
    const { plain, pipelined, pooledP99: pooled } = await measure(fw);
    const three = (r: Record<Variant, Result>, f: (x: Result) => string) =>
      VARIANTS.map((v) => f(r[v])).join(' / ');
    const vs = (r: Record<Variant, Result>, f: (x: Round) => string) =>
      `${f(r.prodmon.ratio)} / ${f(r.promclient.ratio)}`;
    for (const [load, r] of [
      ['plain', plain],
      ['pipelined', pipelined],
    ] as const) {
      rows.push([
        load === 'plain' ? fw : '',
        load,
        Math.round(r.bare.rps),
        vs(r, (x) => pct(x.rps)),
        three(r, (x) => x.p99.toFixed(2)),
        vs(r, (x) => signedPct(x.p99 - 1)),
        three(r, (x) => x.cpu.toFixed(1)),
        vs(r, (x) => signedPct(x.cpu - 1)),
        three(r, (x) => `${Math.round(x.busy * 100)}`),
      ]);
    }
    const yes = (b: boolean) => (b ? 'yes' : 'NO');
    const saturated = pipelined.bare.busy >= 0.95;
    const tp = pipelined.prodmon;
    const rpsVerdict = intervalVerdict(tp.rpsInterval, ROUNDS, (x) => x >= 0.95);
    verdicts.push(
      `${fw}: throughput >= 95 % (pipelined${saturated ? '' : ', server NOT saturated'}) ${rpsVerdict} ` +
        `(${pct(tp.ratio.rps)}, 90 % interval of the median ${pct(tp.rpsInterval.lo)} to ${pct(tp.rpsInterval.hi)}; ` +
        `quartiles of the rounds ${pct(tp.q1.rps)} to ${pct(tp.q3.rps)}), ` +
        `p99 within 10 % (plain, pooled) ${intervalVerdict(pooled, ROUNDS, (x) => x <= 1.1)} ` +
        `(${signedPct(pooled.ratio - 1)}, 90 % interval ${signedPct(pooled.lo - 1)} to ${signedPct(pooled.hi - 1)}; ` +
        `per round ${signedPct(plain.prodmon.ratio.p99 - 1)}, quartiles ${signedPct(plain.prodmon.q1.p99 - 1)} to ${signedPct(plain.prodmon.q3.p99 - 1)}), ` +
        `less CPU overhead than prom-client (pipelined) ${yes(pipelined.prodmon.ratio.cpu < pipelined.promclient.ratio.cpu)}`,
    );
  }
  table(
    [
      'framework',
      'load',
      'bare req/s',
      'req/s of bare prodmon / prom',
      'p99 ms bare / prodmon / prom',
      'p99 vs bare prodmon / prom',
      'CPU µs/req bare / prodmon / prom',
      'CPU/req vs bare prodmon / prom',
      'server busy % bare / prodmon / prom',
    ],
    rows,
  );
  process.stdout.write(`\n${verdicts.join('\n')}\n`);
  process.stdout.write(
    "(ratios: median over the rounds of each round's ratio to bare under the same load; server busy below ~95 %: the load generator was the bottleneck)\n",
  );
  process.stdout.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
