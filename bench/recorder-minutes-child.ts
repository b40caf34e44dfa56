/**
 * One side of bench/recorder-minutes.ts: records 1,000,000 log-normal latencies over 1,000 series,
 * spread over `minutes` minutes of a simulated clock, flushing (encoding every changed bucket, then
 * committing) `flushes` times a minute, as the engine's flush loop does (every 10 s by default), with
 * the recorder as it is (`recycled`: a series' new minute records into the bins array of a minute
 * already written, and flushes encode sketches into memory they reuse) or with parts of it switched
 * off: `bins-reused` encodes each sketch into a Buffer of its own; `reserved` also gives each new
 * minute a new bins array (sized as the previous minute grew to: the recorder before this change);
 * `steps` grows the bins in steps from nothing every minute (the recorder before the reservation).
 * Prints `{ rss, heap, arrayBuffers }` (MB, after GC) and the time spent recording and flushing.
 *
 *   node recorder-minutes-child.mjs <recycled|bins-reused|reserved|steps> <minutes> [flushes a minute, 6]
 */
import { FakeClock } from '../src/core/clock.js';
import { Recorder } from '../src/metrics/recorder.js';
import { Series } from '../src/metrics/series.js';
import { EncodeArena } from '../src/metrics/sketch-proto.js';

const [mode = 'recycled', minutesArg = '30', flushesArg = '6'] = process.argv.slice(2);
const flushes = Number(flushesArg);
const proto = Series.prototype as unknown as { rememberBins: () => void; recycle: () => void };
if (mode === 'steps' || mode === 'reserved') proto.recycle = () => {};
if (mode === 'steps') proto.rememberBins = () => {};
if (mode !== 'recycled') {
  // every sketch encoded into a Buffer of its own, as before the encoding memory was reused
  EncodeArena.prototype.room = function (this: EncodeArena, size: number) {
    this.buf = Buffer.allocUnsafe(size);
    this.used = 0;
  };
}

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

// Every process (the loaded-only one too) first allocates what an app's requests would, long enough
// that V8's young generation has grown to its full size (a fast allocation loop grows it by ~24 MB):
// else the figures would carry that growth in the recording processes only.
const ring: unknown[] = new Array(1024);
for (let i = 0; i < 3_000_000; i++) ring[i & 1023] = { id: `req-${i}`, headers: { accept: '*/*' } };

const t0 = performance.now();
for (let m = 0; m < minutes; m++) {
  // a flush every 60 / flushes seconds, as the engine's loop (10 s by default: six a minute), each
  // writing the buckets that changed (the open ones re-encoded), the last one closing the minute
  for (let f = 0; f < flushes; f++) {
    for (
      let i = Math.floor((f * perMinute) / flushes);
      i < Math.floor(((f + 1) * perMinute) / flushes);
      i++
    ) {
      recorder.observe(series[i % series.length]!, latency(), false, m * MINUTE + (i * MINUTE) / perMinute);
    }
    const batch = recorder.collect(m * MINUTE + ((f + 1) * MINUTE) / flushes);
    for (const chunk of batch.chunks(100)) if (chunk.length === 0) throw new Error('empty chunk');
    batch.commit();
  }
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
