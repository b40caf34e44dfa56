/**
 * Memory of recording over many minutes: 1,000,000 latencies over 1,000 series spread over 30 minutes
 * of a simulated clock, flushed every 10 s as the engine does (BENCH_FLUSHES=6 a minute; the last one of
 * each minute closes it; bench/recorder-minutes-child.ts), three
 * recorders side by side, each in its own process (bundled), BENCH_RUNS (5) times in rotating order;
 * the median is printed, with RSS above a process that only loads the recorder (every process first
 * allocates as an app would, so V8's young generation has its full size in all of them):
 *   - recycled (prodmon's recorder): a series' new minute records into the bins array of a minute
 *     already written, and flushes encode sketches into memory they reuse, so recording leaves no
 *     garbage outside V8's heap;
 *   - bins reused, each sketch encoded into a Buffer of its own;
 *   - reserved (the baseline: the recorder before both): each new minute allocates its bins array,
 *     sized as the previous minute grew to, and every flush allocates a Buffer per changed series;
 *   - steps (the recorder before the reservation): bins grown in 32-bin steps from nothing every minute.
 * Arrays outside V8's heap that die are freed only by a full collection, which V8 starts on such
 * memory late (after tens of MB of it): what recording leaves there shows as RSS.
 *
 *   node --import tsx bench/recorder-minutes.ts          # BENCH_MINUTES=30, about 30 s
 *
 * bench/memory.ts records its million requests within one minute, where there is nothing to reserve.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleChild, median, table } from './support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 30);
const FLUSHES = Number(process.env.BENCH_FLUSHES ?? 6);
const started = performance.now();
const child = await bundleChild(fileURLToPath(new URL('./recorder-minutes-child.ts', import.meta.url)));

interface Figures {
  rss: number;
  heap: number;
  arrayBuffers: number;
  ms: number;
}

function run(mode: string, minutes: number): Figures {
  const r = spawnSync(process.execPath, ['--expose-gc', child, mode, String(minutes), String(FLUSHES)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Figures;
}

const sides = ['steps', 'reserved', 'bins-reused', 'recycled'] as const;
const got: Record<string, Figures[]> = Object.fromEntries([...sides, 'loaded'].map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) {
  for (let k = 0; k < sides.length; k++) {
    const mode = sides[(k + i) % sides.length]!;
    got[mode]!.push(run(mode, MINUTES));
  }
  got.loaded!.push(run('recycled', 0));
}
const m = (mode: string, k: keyof Figures) => median(got[mode]!.map((f) => f[k]));
const loaded = m('loaded', 'rss');
const names = {
  steps: 'bins grown in steps every minute',
  reserved: 'bins reserved, a new array each minute',
  'bins-reused': 'bins of a written minute reused',
  recycled: 'bins reused, encoding memory reused',
};
const rows = sides.map((mode) => [
  names[mode],
  m(mode, 'rss').toFixed(1),
  `+${(m(mode, 'rss') - loaded).toFixed(1)} MB`,
  m(mode, 'heap').toFixed(1),
  m(mode, 'arrayBuffers').toFixed(1),
  `${(m(mode, 'ms') / 1000).toFixed(2)} s`,
]);
process.stdout.write(
  `recording 1,000,000 latencies over 1,000 series across ${MINUTES} simulated minutes, ${FLUSHES} flushes a minute; median of ${RUNS} runs\n\n`,
);
table(['recorder', 'RSS MB', 'above loaded', 'heap MB', 'array buffers MB', 'record + flush'], rows);
const ratio = (a: string, b: string) => {
  const saved = m(b, 'rss') - m(a, 'rss');
  return (
    `RSS above loaded ${(((m(a, 'rss') - loaded) / (m(b, 'rss') - loaded)) * 100).toFixed(0)} % ` +
    `(${saved >= 0 ? '-' : '+'}${Math.abs(saved).toFixed(1)} MB), time ${((m(a, 'ms') / m(b, 'ms')) * 100).toFixed(0)} %`
  );
};
process.stdout.write(`\nrecycled / reserved:    ${ratio('recycled', 'reserved')}\n`);
process.stdout.write(`bins reused / reserved: ${ratio('bins-reused', 'reserved')}\n`);
process.stdout.write(`reserved / steps:       ${ratio('reserved', 'steps')}\n`);
process.stdout.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
