/**
 * Memory of recording: an Express app with 1,000 routes after 1,000,000 recorded requests, with prodmon
 * and with a prom-client histogram, against the same app bare. prodmon is measured twice: its metrics
 * engine alone, and the whole embedded setup (plus the SQLite store with its flush and sampling loops,
 * Node default metrics, one flush and one /metrics scrape).
 * Requests are recorded in process through the code that runs when a response closes (not over
 * HTTP), so the figure is the cost of the data kept, not of sockets. Each variant runs in its own
 * process, BENCH_RUNS (5) times in rotating order, and the run with the median RSS is kept; RSS and
 * heap after GC. The child is bundled to plain JavaScript first (bundleChild), so no variant pays for
 * compiling TypeScript at run time, as none would in production; each variant loads only the packages
 * it uses (the bundle keeps dynamic imports as separate chunks).
 *
 * The RSS above bare is split in two: loading and starting (the code of prodmon and its packages, the
 * store opened: paid once, whatever the traffic) and the requests (RSS after the requests, the flush
 * and the scrape minus RSS before them, less the same growth of bare: what the traffic costs).
 *
 *   node --import tsx bench/memory.ts
 *
 * prodmon/agent (the instrumentation alone, pushing to a standalone prodmon) pushes to a receiver in
 * this process, which reads and discards (so it is not counted in the agent's RSS).
 *
 * The agent, engine and embedded variants run a second time with MALLOC_ARENA_MAX=2 (bare too, to compare
 * with): what glibc keeps of V8's compiler threads' memory shows as their difference.
 *
 * Goal: prodmon's RSS at most 10 MB above bare.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { bundleChild, middleSample, table } from './support.js';

const SOURCE = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const MB = 1024 * 1024;

interface Figures {
  variant: string;
  before: { rss: number; heap: number };
  after: { rss: number; heap: number };
  elapsedMs: number;
}

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** Where the agent variant pushes: a receiver in this process that reads and discards (not measured). */
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('{}'));
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const RECEIVER = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
let pushes = 0;
receiver.on('request', () => pushes++);

/** `<variant>` or `<variant>+arenas2`: the same child with glibc's malloc limited to 2 arenas. */
async function run(spec: string): Promise<Figures> {
  const [variant, arenas] = spec.split('+') as [string, string | undefined];
  const env = arenas === 'arenas2' ? { ...process.env, MALLOC_ARENA_MAX: '2' } : process.env;
  // async, so this process's receiver can answer the agent's push while the child runs
  const child = spawn(process.execPath, ['--expose-gc', CHILD, variant, RECEIVER], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  const status = await new Promise<number | null>((res) => child.on('close', res));
  const r = { status, stdout, stderr };
  if (r.status !== 0) throw new Error(`${variant}: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as Figures), variant: spec };
}

const started = performance.now();
const CHILD = await bundleChild(SOURCE);
// Each variant RUNS times, in rotating order; the run with the median RSS is kept (RSS after GC moves
// by a few MB from one process to the next, and drift in the machine hits every variant alike).
// The prodmon variants again with MALLOC_ARENA_MAX=2 (each compared with bare under the same setting): glibc
// gives each thread that allocates a heap ("arena") of its own and keeps what is freed there. V8's
// compiler threads allocate while optimizing the code that runs, so a process that compiles more keeps
// more: about 5 MB of the embedded variant's RSS (see the README, Metrics -> Performance).
const VARIANTS = [
  'bare',
  'agent',
  'recorder',
  'prodmon',
  'promclient',
  'bare+arenas2',
  'agent+arenas2',
  'recorder+arenas2',
  'prodmon+arenas2',
];
const runs: Figures[][] = VARIANTS.map(() => []);
for (let r = 0; r < RUNS; r++) {
  for (let k = 0; k < VARIANTS.length; k++) {
    const i = (k + r) % VARIANTS.length;
    runs[i]!.push(await run(VARIANTS[i]!));
  }
}
const results = runs.map((rs) => {
  const m = middleSample(rs.map((f) => f.after.rss));
  return rs.find((f) => f.after.rss === m)!;
});
const spread = runs.map((rs) => {
  const xs = rs.map((f) => f.after.rss);
  return Math.max(...xs) - Math.min(...xs);
});
const names: Record<string, string> = {
  bare: 'bare',
  agent: 'prodmon/agent (loops, one push)',
  recorder: 'prodmon engine only',
  prodmon: 'prodmon embedded (store, loops, scrape)',
  promclient: 'prom-client histogram (scraped)',
};
const label = (spec: string) => {
  const [v, arenas] = spec.split('+') as [string, string | undefined];
  return `${names[v] ?? v}${arenas ? ', MALLOC_ARENA_MAX=2' : ''}`;
};
/** Bare under the same malloc setting as `r`. */
const bareOf = (r: Figures) =>
  results[r.variant.endsWith('+arenas2') ? VARIANTS.indexOf('bare+arenas2') : 0]!;
const mb = (x: number) => (x / MB).toFixed(1);
process.stdout.write(
  `memory: Express app, 1,000 routes, 1,000,000 requests recorded in process (median of ${RUNS} runs)\n\n`,
);
const growth = (r: Figures) => r.after.rss - r.before.rss;
const signed = (x: number) => `${x >= 0 ? '+' : ''}${mb(x)} MB`;
table(
  [
    'variant',
    'RSS MB',
    'vs bare',
    'of which loading + start',
    'of which the requests',
    'RSS spread of the runs',
    'heap MB',
    'record time',
  ],
  results.map((r, i) => {
    const bare = bareOf(r);
    const vs = (x: number) => (r === bare ? '' : signed(x));
    return [
      label(r.variant),
      mb(r.after.rss),
      vs(r.after.rss - bare.after.rss),
      vs(r.before.rss - bare.before.rss),
      vs(growth(r) - growth(bare)),
      `${mb(spread[i]!)} MB`,
      mb(r.after.heap),
      `${(r.elapsedMs / 1000).toFixed(2)} s`,
    ];
  }),
);
const goal = (spec: string) => {
  const r = results[VARIANTS.indexOf(spec)]!;
  const bare = bareOf(r);
  const extra = (r.after.rss - bare.after.rss) / MB;
  const traffic = (growth(r) - growth(bare)) / MB;
  return (
    `  ${label(spec)}: ${extra <= 10 ? 'met' : 'NOT met'} (+${extra.toFixed(1)} MB); ` +
    `the requests alone ${traffic <= 10 ? 'within' : 'OVER'} 10 MB (${signed(traffic * MB)})\n`
  );
};
process.stdout.write(
  `\ngoal (<= 10 MB above bare):\n${VARIANTS.filter((v) => !v.startsWith('bare'))
    .map(goal)
    .join('')}`,
);
process.stdout.write(`pushes received from the agent runs: ${pushes}\n`);
process.stdout.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
receiver.close();
