/**
 * Memory of recording over many minutes: 1,000,000 latencies over 1,000 series spread over 30 minutes
 * of a simulated clock, with a flush at the end of each minute (bench/recorder-minutes-child.ts), with
 * each series' new minute reserving the sketch bins its previous minute grew to (prodmon's recorder)
 * against the same recorder growing them in steps from nothing every minute (the recorder before the
 * reservation: the baseline). Each side runs in its own process (bundled), BENCH_RUNS (5) times in
 * alternating order; the median is printed, with RSS above a process that only loads the recorder.
 *
 *   node --import tsx bench/recorder-minutes.ts          # BENCH_MINUTES=30, about 30 s
 *
 * bench/memory.ts records its million requests within one minute, where there is nothing to reserve.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleChild, table } from './support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 30);
const started = performance.now();
const child = await bundleChild(fileURLToPath(new URL('./recorder-minutes-child.ts', import.meta.url)));

interface Figures {
  rss: number;
  heap: number;
  arrayBuffers: number;
  ms: number;
}

function run(mode: string, minutes: number): Figures {
  const r = spawnSync(process.execPath, ['--expose-gc', child, mode, String(minutes)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Figures;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sides = ['steps', 'reserved'] as const;
const got: Record<string, Figures[]> = { steps: [], reserved: [], loaded: [] };
for (let i = 0; i < RUNS; i++) {
  for (const mode of i % 2 ? [...sides].reverse() : sides) got[mode]!.push(run(mode, MINUTES));
  got.loaded!.push(run('reserved', 0));
}
const m = (mode: string, k: keyof Figures) => median(got[mode]!.map((f) => f[k]));
const loaded = m('loaded', 'rss');
const rows = (['steps', 'reserved'] as const).map((mode) => [
  mode === 'steps' ? 'bins grown in steps every minute (before)' : 'bins reserved from the previous minute',
  m(mode, 'rss').toFixed(1),
  `+${(m(mode, 'rss') - loaded).toFixed(1)} MB`,
  m(mode, 'heap').toFixed(1),
  m(mode, 'arrayBuffers').toFixed(1),
  `${(m(mode, 'ms') / 1000).toFixed(2)} s`,
]);
process.stdout.write(
  `recording 1,000,000 latencies over 1,000 series across ${MINUTES} simulated minutes, a flush per minute; median of ${RUNS} runs\n\n`,
);
table(['recorder', 'RSS MB', 'above loaded', 'heap MB', 'array buffers MB', 'record + flush'], rows);
const saved = m('steps', 'rss') - m('reserved', 'rss');
process.stdout.write(
  `\nreserved / before: RSS above loaded ${(((m('reserved', 'rss') - loaded) / (m('steps', 'rss') - loaded)) * 100).toFixed(0)} % (${saved >= 0 ? '-' : '+'}${Math.abs(saved).toFixed(1)} MB), time ${((m('reserved', 'ms') / m('steps', 'ms')) * 100).toFixed(0)} %\n`,
);
process.stdout.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
