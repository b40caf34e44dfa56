/**
 * Memory of recording: an Express app with 1,000 routes after 1,000,000 recorded requests, with prodmon
 * and with a prom-client histogram, against the same app bare. prodmon is measured twice: its metrics
 * engine alone (what the recorded data costs), and the whole embedded setup (plus the SQLite store
 * with its flush and sampling loops, Node default metrics, one flush and one /metrics scrape).
 * Requests are recorded in process through the code that runs when a response closes (not over HTTP), so the figure is the cost of
 * the data kept, not of sockets. Each variant runs in its own process, BENCH_RUNS (5) times in
 * rotating order, and the run with the median RSS is kept; RSS and heap after GC. The child is bundled to plain JavaScript first (esbuild, which tsx brings; packages stay external), so
 * no variant pays for compiling TypeScript at run time, as none would in production.
 *
 *   node --import tsx bench/memory.ts
 *
 * Goal: prodmon's RSS at most 10 MB above bare.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { table } from './support.js';

const SOURCE = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
// Inside node_modules/.cache, so the bundle's package imports resolve from the project's node_modules.
const CHILD = fileURLToPath(
  new URL('../node_modules/.cache/prodmon-bench/memory-child.mjs', import.meta.url),
);
const MB = 1024 * 1024;

interface Figures {
  variant: string;
  before: { rss: number; heap: number };
  after: { rss: number; heap: number };
  elapsedMs: number;
}

async function bundle(): Promise<void> {
  // esbuild is tsx's own dependency (no type declarations needed for this one call)
  const esbuild = (await import('esbuild' as string)) as {
    build(o: Record<string, unknown>): Promise<unknown>;
  };
  await esbuild.build({
    entryPoints: [SOURCE],
    outfile: CHILD,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
}

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function run(variant: string): Figures {
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD, variant], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${variant}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Figures;
}

const started = performance.now();
await bundle();
// Each variant RUNS times, in rotating order; the run with the median RSS is kept (RSS after GC moves
// by a few MB from one process to the next, and drift in the machine hits every variant alike).
const VARIANTS = ['bare', 'recorder', 'prodmon', 'promclient'];
const runs: Figures[][] = VARIANTS.map(() => []);
for (let r = 0; r < RUNS; r++) {
  for (let k = 0; k < VARIANTS.length; k++) {
    const i = (k + r) % VARIANTS.length;
    runs[i]!.push(run(VARIANTS[i]!));
  }
}
const results = runs.map((rs) => {
  const m = median(rs.map((f) => f.after.rss));
  return rs.find((f) => f.after.rss === m)!;
});
const spread = runs.map((rs) => {
  const xs = rs.map((f) => f.after.rss);
  return Math.max(...xs) - Math.min(...xs);
});
const names: Record<string, string> = {
  bare: 'bare',
  recorder: 'prodmon engine only',
  prodmon: 'prodmon embedded (store, loops, scrape)',
  promclient: 'prom-client histogram (scraped)',
};
for (const r of results) r.variant = names[r.variant] ?? r.variant;
const bare = results[0]!;
const mb = (x: number) => (x / MB).toFixed(1);
process.stdout.write(
  `memory: Express app, 1,000 routes, 1,000,000 requests recorded in process (median of ${RUNS} runs)\n\n`,
);
table(
  [
    'variant',
    'RSS MB',
    'vs bare',
    'RSS spread of the runs',
    'heap MB',
    'growth while recording (RSS / heap)',
    'record time',
  ],
  results.map((r, i) => [
    r.variant,
    mb(r.after.rss),
    r === bare ? '' : `+${mb(r.after.rss - bare.after.rss)} MB`,
    `${mb(spread[i]!)} MB`,
    mb(r.after.heap),
    `${mb(r.after.rss - r.before.rss)} / ${mb(r.after.heap - r.before.heap)} MB`,
    `${(r.elapsedMs / 1000).toFixed(2)} s`,
  ]),
);
const goal = (i: number) => {
  const extra = (results[i]!.after.rss - bare.after.rss) / MB;
  return `${extra <= 10 ? 'met' : 'NOT met'} (+${extra.toFixed(1)} MB)`;
};
process.stdout.write(
  `\ngoal (<= 10 MB above bare): engine only ${goal(1)}; embedded with store ${goal(2)}\n`,
);
process.stdout.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
