/**
 * The shop under load, with prodmon embedded vs without, side by side in one run (bounded, 127.0.0.1):
 *
 * 1. throughput: autocannon as fast as it can (the traffic mix of shop-harness.ts) -> req/s, p50, p99,
 *    and CPU time per 1,000 requests;
 * 2. fixed rate: the same mix at `--rate` req/s -> the shop's CPU % and RSS, so prodmon's share of them
 *    at a steady load is (with - without) / with.
 *
 * Variants alternate (off, on, on, off...) so drift hurts neither.
 *
 *   node --import tsx bench/shop-load.ts [--duration 10s] [--connections 10] [--rate 200] [--rounds 2]
 */
import { parseArgs } from 'node:util';
import { autocannon, cpuMs, mb, type ShopProcess, startShop, trafficMix } from './shop-harness.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    rate: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '3' },
  },
});
const DURATION = Math.min(120, Number.parseInt(values.duration, 10));
const CONNECTIONS = Math.min(100, Number.parseInt(values.connections, 10));
const RATE = Math.min(5000, Number.parseInt(values.rate, 10));
const ROUNDS = Math.min(5, Number.parseInt(values.rounds, 10));
const WARMUP = Math.min(30, Number.parseInt(values.warmup, 10));

interface Run {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  cpuMs: number;
  wallMs: number;
  rss: number;
  /** Heap in use after a full GC at the end of the run (what stays, not garbage). */
  heapAfterGc: number;
}

async function load(shop: ShopProcess, opts: { duration: number; rate?: number }): Promise<Run> {
  const before = await shop.stats();
  const r = await autocannon({
    url: shop.url,
    connections: opts.rate ? Math.max(2, Math.ceil(opts.rate / 50)) : CONNECTIONS,
    duration: opts.duration,
    overallRate: opts.rate,
    requests: trafficMix(),
  });
  const after = await shop.stats();
  const collected = await shop.stats(true);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    cpuMs: cpuMs(before, after),
    wallMs: after.at - before.at,
    rss: after.rss,
    heapAfterGc: collected.heapUsed,
  };
}

const results: Record<'off' | 'on', { max: Run[]; fixed: Run[] }> = {
  off: { max: [], fixed: [] },
  on: { max: [], fixed: [] },
};
for (let round = 0; round < ROUNDS; round++) {
  const order: boolean[] = round % 2 === 0 ? [false, true] : [true, false];
  for (const prodmon of order) {
    const key = prodmon ? 'on' : 'off';
    const shop = await startShop(prodmon);
    try {
      await load(shop, { duration: WARMUP });
      const max = await load(shop, { duration: DURATION });
      const fixed = await load(shop, { duration: DURATION, rate: RATE });
      results[key].max.push(max);
      results[key].fixed.push(fixed);
      process.stderr.write(
        `round ${round + 1} prodmon ${key}: ${max.rps.toFixed(0)} req/s p99 ${max.p99} ms | at ${RATE} req/s: CPU ${((fixed.cpuMs / fixed.wallMs) * 100).toFixed(1)} % RSS ${mb(fixed.rss)}\n`,
      );
    } finally {
      await shop.stop();
    }
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const summary = (runs: Run[]) => ({
  rps: mean(runs.map((r) => r.rps)),
  p50: mean(runs.map((r) => r.p50)),
  p99: mean(runs.map((r) => r.p99)),
  cpuPerK: mean(runs.map((r) => (r.cpuMs / r.requests) * 1000)),
  cpuPct: mean(runs.map((r) => (r.cpuMs / r.wallMs) * 100)),
  rss: mean(runs.map((r) => r.rss)),
  heapAfterGc: mean(runs.map((r) => r.heapAfterGc)),
  non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
  errors: runs.reduce((a, r) => a + r.errors, 0),
  requests: runs.reduce((a, r) => a + r.requests, 0),
});
const offMax = summary(results.off.max);
const onMax = summary(results.on.max);
const offFixed = summary(results.off.fixed);
const onFixed = summary(results.on.fixed);
const pct = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)} %`;

console.log(
  `\nshop benchmark: ${ROUNDS} round(s), ${DURATION}s per run, ${CONNECTIONS} connections, mix of 9 requests (6 reads, 3 writes)`,
);
console.log('\n| as fast as possible | without prodmon | with prodmon | change |');
console.log('|---|---|---|---|');
console.log(
  `| throughput (req/s) | ${offMax.rps.toFixed(0)} | ${onMax.rps.toFixed(0)} | ${pct(offMax.rps, onMax.rps)} |`,
);
console.log(
  `| p50 latency (ms) | ${offMax.p50.toFixed(1)} | ${onMax.p50.toFixed(1)} | ${pct(offMax.p50, onMax.p50)} |`,
);
console.log(
  `| p99 latency (ms) | ${offMax.p99.toFixed(1)} | ${onMax.p99.toFixed(1)} | ${pct(offMax.p99, onMax.p99)} |`,
);
console.log(
  `| CPU per 1,000 requests (ms) | ${offMax.cpuPerK.toFixed(0)} | ${onMax.cpuPerK.toFixed(0)} | ${pct(offMax.cpuPerK, onMax.cpuPerK)} |`,
);
console.log(`\n| at a steady ${RATE} req/s | without prodmon | with prodmon | prodmon's share |`);
console.log('|---|---|---|---|');
console.log(
  `| shop process CPU (% of one core) | ${offFixed.cpuPct.toFixed(1)} | ${onFixed.cpuPct.toFixed(1)} | ${(((onFixed.cpuPct - offFixed.cpuPct) / onFixed.cpuPct) * 100).toFixed(1)} % of the process's CPU |`,
);
console.log(`| RSS | ${mb(offFixed.rss)} | ${mb(onFixed.rss)} | +${mb(onFixed.rss - offFixed.rss)} |`);
console.log(
  `| heap in use after a full GC | ${mb(offFixed.heapAfterGc)} | ${mb(onFixed.heapAfterGc)} | +${mb(onFixed.heapAfterGc - offFixed.heapAfterGc)} |`,
);
console.log(
  `| p99 latency (ms) | ${offFixed.p99.toFixed(1)} | ${onFixed.p99.toFixed(1)} | ${pct(offFixed.p99, onFixed.p99)} |`,
);
const bad = offMax.errors + onMax.errors + offFixed.errors + onFixed.errors;
console.log(
  `\nrequests: ${offMax.requests + onMax.requests + offFixed.requests + onFixed.requests}; non-2xx (out of stock, empty cart): ${offMax.non2xx + onMax.non2xx + offFixed.non2xx + onFixed.non2xx}; connection errors/timeouts: ${bad}`,
);
