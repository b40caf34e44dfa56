/**
 * prodmon's idle cost: two idle shops side by side, one with prodmon embedded, one without, for
 * `--seconds` (default 60). Reports each process's CPU % over the idle period and its RSS at the end;
 * the difference is what the monitoring costs while nothing happens (the specification's goal:
 * "< 1 % CPU, 5-10 MB memory"). Both shops first serve the same short burst, so both have warmed up.
 * The children run bundled JavaScript (see buildServers), not tsx.
 *
 *   node --import tsx bench/shop-idle.ts [--seconds 60]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { autocannon, cpuMs, mb, startShop, trafficMix } from './shop-harness.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const SECONDS = Math.max(5, Math.min(300, Number.parseInt(values.seconds, 10)));

const off = await startShop(false);
const on = await startShop(true);
try {
  for (const shop of [off, on]) {
    await autocannon({ url: shop.url, connections: 4, amount: 900, requests: trafficMix() });
  }
  await sleep(3000); // let the burst's garbage and timers settle
  const s0 = await Promise.all([off.stats(), on.stats()]);
  const rss: number[][] = [[], []];
  for (let i = 0; i < SECONDS; i++) {
    await sleep(1000);
    const s = await Promise.all([off.stats(), on.stats()]);
    rss[0]!.push(s[0].rss);
    rss[1]!.push(s[1].rss);
  }
  const s1 = await Promise.all([off.stats(), on.stats()]);
  const g = await Promise.all([off.stats(true), on.stats(true)]);
  const cpu = [0, 1].map((i) => (cpuMs(s0[i]!, s1[i]!) / (s1[i]!.at - s0[i]!.at)) * 100);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`\nidle shop for ${SECONDS}s (after a 900-request warm-up), sampled every second`);
  console.log('\n| idle | without prodmon | with prodmon | prodmon costs |');
  console.log('|---|---|---|---|');
  console.log(
    `| CPU (% of one core) | ${cpu[0]!.toFixed(2)} | ${cpu[1]!.toFixed(2)} | ${(cpu[1]! - cpu[0]!).toFixed(2)} percentage points |`,
  );
  console.log(
    `| RSS, mean | ${mb(avg(rss[0]!))} | ${mb(avg(rss[1]!))} | ${mb(avg(rss[1]!) - avg(rss[0]!))} |`,
  );
  console.log(`| RSS, end | ${mb(s1[0]!.rss)} | ${mb(s1[1]!.rss)} | ${mb(s1[1]!.rss - s1[0]!.rss)} |`);
  console.log(
    `| heap used, end | ${mb(s1[0]!.heapUsed)} | ${mb(s1[1]!.heapUsed)} | ${mb(s1[1]!.heapUsed - s1[0]!.heapUsed)} |`,
  );
  console.log(
    `| heap used, after a full GC | ${mb(g[0].heapUsed)} | ${mb(g[1].heapUsed)} | ${mb(g[1].heapUsed - g[0].heapUsed)} |`,
  );
  console.log(`| RSS, after a full GC | ${mb(g[0].rss)} | ${mb(g[1].rss)} | ${mb(g[1].rss - g[0].rss)} |`);
} finally {
  await Promise.all([off.stop(), on.stop()]);
}
