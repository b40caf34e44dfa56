/**
 * One side of bench/recorder-minutes.ts: records 1,000,000 log-normal latencies over 1,000 series,
 * spread over `minutes` minutes of a simulated clock, flushing (encoding every changed bucket, then
 * committing) at the end of each minute, as the engine's flush loop does. `steps` makes each series'
 * new minute grow its sketch bins in steps from nothing, as recording did before bins were reserved
 * (the baseline); otherwise the new minute reserves the range the previous one grew to.
 * Prints `{ rss, heap, arrayBuffers }` (MB, after GC) and the time spent recording and flushing.
 *
 *   node recorder-minutes-child.mjs <reserved|steps> <minutes>
 */
import { FakeClock } from '../src/core/clock.js';
import { Recorder } from '../src/metrics/recorder.js';
import { Series } from '../src/metrics/series.js';

const [mode = 'reserved', minutesArg = '30'] = process.argv.slice(2);
if (mode === 'steps') (Series.prototype as unknown as { rememberBins: () => void }).rememberBins = () => {};

const MINUTE = 60_000;
const minutes = Number(minutesArg);
const perMinute = Math.floor(1_000_000 / minutes);
// Every sample and flush passes its own time; the clock is never read.
const recorder = new Recorder({ clock: new FakeClock(0), instance: 'bench', maxSeries: 2000 });
const series = Array.from({ length: 1000 }, (_, i) => recorder.series('http_request', { route: `/r${i}` }));

// A seeded generator: both sides record the same values.
let seed = 1;
const uniform = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return (seed + 1) / 0x80000001;
};
const latency = () =>
  Math.exp(Math.log(20) + 0.8 * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));

const t0 = performance.now();
for (let m = 0; m < minutes; m++) {
  for (let i = 0; i < perMinute; i++) {
    recorder.observe(series[i % series.length]!, latency(), false, m * MINUTE + (i * MINUTE) / perMinute);
  }
  const batch = recorder.collect((m + 1) * MINUTE);
  for (const chunk of batch.chunks(100)) if (chunk.length === 0) throw new Error('empty chunk');
  batch.commit();
}
const ms = performance.now() - t0;
// Backing stores are freed by the sweeper after a GC: collect twice with a pause between.
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
gc();
await new Promise((r) => setTimeout(r, 200));
gc();
await new Promise((r) => setTimeout(r, 200));
const mu = process.memoryUsage();
const MB = 1024 * 1024;
process.stdout.write(
  `${JSON.stringify({ rss: mu.rss / MB, heap: mu.heapUsed / MB, arrayBuffers: mu.arrayBuffers / MB, ms })}\n`,
);
