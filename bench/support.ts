/** Shared parts of the metrics benchmarks: autocannon, child servers, and table output. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleOptions } from '../scripts/bundle.js';

/** The parts of autocannon's result read here. */
export interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
}

/** autocannon (CommonJS, no type declarations), typed for what is used here. */
export const autocannon = createRequire(import.meta.url)('autocannon') as (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
}) => Promise<CannonResult>;

/** autocannon's run with a callback: the returned instance emits `response` per request. */
const cannonWithEvents = autocannon as unknown as (
  opts: Parameters<typeof autocannon>[0],
  done: (err: Error | null, result: CannonResult) => void,
) => {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
};

/**
 * An autocannon run that also keeps every response's latency as autocannon measured it (float ms):
 * its own histogram keeps whole milliseconds, too coarse to tell a 10 % difference at 3-5 ms.
 */
export function autocannonLatencies(
  opts: Parameters<typeof autocannon>[0],
): Promise<{ result: CannonResult; latencies: number[] }> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = cannonWithEvents(opts, (err, result) => {
      if (err) reject(err);
      else resolve({ result, latencies });
    });
    instance.on('response', (_client, _status, _bytes, ms) => {
      latencies.push(ms);
    });
  });
}

/** The value at quantile `q` of unsorted samples (nearest rank; sorts a copy). */
export function quantile(samples: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(samples).sort();
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The median of `xs` (the mean of the two middle values when their number is even). */
export function median(xs: ArrayLike<number>): number {
  const s = Float64Array.from(xs).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/**
 * The middle sample of `xs` (the upper of the two middle ones when their number is even): a value
 * that was measured, so the run it came from can be found by it.
 */
export function middleSample(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/** Rounds below which a resampled interval is too coarse to decide anything. */
const MIN_ROUNDS_FOR_VERDICT = 10;

/**
 * A goal's verdict from a 90 % interval over `rounds` rounds: "yes" or "NO" only when the whole
 * interval is on one side of the goal (`ok`), and only from enough rounds to resample.
 */
export function intervalVerdict(
  interval: { lo: number; hi: number },
  rounds: number,
  ok: (x: number) => boolean,
): string {
  if (rounds < MIN_ROUNDS_FOR_VERDICT) return `cannot tell (fewer than ${MIN_ROUNDS_FOR_VERDICT} rounds)`;
  if (ok(interval.lo) && ok(interval.hi)) return 'yes';
  if (!ok(interval.lo) && !ok(interval.hi)) return 'NO';
  return 'cannot tell';
}

/** Bins of a {@link LatencyBins}: 0.5 % wide from 1 µs, up to about 60 s. */
const LAT_BINS = 3600;
const LAT_MIN_MS = 0.001;
const LAT_STEP = Math.log(1.005);

/**
 * Latencies of one round binned on a log scale (bins 0.5 % wide, from 1 µs): rounds can then be pooled
 * and resampled (see {@link pooledRatio}) without keeping and sorting every sample again. A bin stands
 * for its geometric middle, so a quantile read from bins is within 0.25 % of the exact one.
 */
export class LatencyBins {
  readonly bins = new Uint32Array(LAT_BINS);
  count = 0;

  constructor(latencies: Iterable<number> = []) {
    for (const ms of latencies) this.add(ms);
  }

  add(ms: number): void {
    const i = ms <= LAT_MIN_MS ? 0 : Math.floor(Math.log(ms / LAT_MIN_MS) / LAT_STEP);
    const k = Math.min(LAT_BINS - 1, i);
    this.bins[k] = this.bins[k]! + 1;
    this.count++;
  }
}

/** The quantile `q` of the rounds `pick` (indexes into `rounds`, repeats allowed) pooled together. */
function pooledQuantileOf(
  rounds: LatencyBins[],
  pick: readonly number[],
  q: number,
  sum: Float64Array,
): number {
  sum.fill(0);
  let total = 0;
  for (const r of pick) {
    const b = rounds[r]!;
    for (let i = 0; i < LAT_BINS; i++) sum[i]! += b.bins[i]!;
    total += b.count;
  }
  const rank = Math.max(1, Math.ceil(q * total));
  let running = 0;
  for (let i = 0; i < LAT_BINS; i++) {
    running += sum[i]!;
    if (running >= rank) return LAT_MIN_MS * Math.exp((i + 0.5) * LAT_STEP);
  }
  return Number.NaN;
}

/** Uniform numbers in [0, 1) from a fixed seed (mulberry32): the same data prints the same interval. */
function seededRandom(): () => number {
  let seed = 0x9e3779b9;
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 90 % interval for the median of `xs` (per-round ratios), from resampling them: how far the
 * median printed could be from the one of a rerun under the same conditions.
 */
export function medianInterval(xs: readonly number[], resamples = 2000): { lo: number; hi: number } {
  const random = seededRandom();
  const medians = new Float64Array(resamples);
  const pick = new Float64Array(xs.length);
  for (let k = 0; k < resamples; k++) {
    for (let j = 0; j < xs.length; j++) pick[j] = xs[Math.floor(random() * xs.length)]!;
    medians[k] = median(pick);
  }
  medians.sort();
  return { lo: medians[Math.floor(resamples * 0.05)]!, hi: medians[Math.floor(resamples * 0.95)]! };
}

/**
 * A 90 % interval for the quantile `q` (nearest rank, as {@link quantile}) of `xs`, from resampling
 * them: how far the figure printed could be from a rerun's under the same conditions. For a p99 of
 * fewer than 100 samples the quantile is the maximum, and so is the interval's top.
 */
export function quantileInterval(
  xs: readonly number[],
  q: number,
  resamples = 2000,
): { lo: number; hi: number } {
  const random = seededRandom();
  const values = new Float64Array(resamples);
  const pick = new Float64Array(xs.length);
  for (let k = 0; k < resamples; k++) {
    for (let j = 0; j < xs.length; j++) pick[j] = xs[Math.floor(random() * xs.length)]!;
    values[k] = quantile(pick, q);
  }
  values.sort();
  return { lo: values[Math.floor(resamples * 0.05)]!, hi: values[Math.floor(resamples * 0.95)]! };
}

/**
 * The ratio of quantile `q` of `variant`'s rounds pooled to that of `base`'s rounds pooled, with a
 * 90 % interval from resampling the rounds (the same rounds for both: round j of each ran back to
 * back, under the same state of the machine). Pooling many short alternating rounds gives both sides
 * the same share of the machine's stalls, which a p99 of one round is at the mercy of; the interval
 * says how much the figure still depends on which rounds the stalls fell in.
 */
export function pooledRatio(
  base: LatencyBins[],
  variant: LatencyBins[],
  q: number,
  resamples = 2000,
): { ratio: number; lo: number; hi: number } {
  const n = Math.min(base.length, variant.length);
  const all = Array.from({ length: n }, (_, i) => i);
  const sum = new Float64Array(LAT_BINS);
  const ratio = pooledQuantileOf(variant, all, q, sum) / pooledQuantileOf(base, all, q, sum);
  const random = seededRandom();
  const ratios = new Float64Array(resamples);
  const pick = new Array<number>(n);
  for (let k = 0; k < resamples; k++) {
    for (let j = 0; j < n; j++) pick[j] = Math.floor(random() * n);
    ratios[k] = pooledQuantileOf(variant, pick, q, sum) / pooledQuantileOf(base, pick, q, sum);
  }
  ratios.sort();
  return { ratio, lo: ratios[Math.floor(resamples * 0.05)]!, hi: ratios[Math.floor(resamples * 0.95)]! };
}

// Decided once: after pinning this process, availableParallelism() only sees its own CPUs.
const CPUS = availableParallelism();
const PIN = process.platform === 'linux' && CPUS > 1 && existsSync('/usr/bin/taskset');

/** Whether child servers run pinned to CPU 0 (Linux with taskset and more than one CPU). */
export function pinned(): boolean {
  return PIN;
}

/** Pins this process to every CPU but 0, leaving CPU 0 to the server under test. */
export function pinSelfAwayFromServer(): void {
  if (!pinned()) return;
  spawnSync('/usr/bin/taskset', ['-pc', `1-${CPUS - 1}`, String(process.pid)], { stdio: 'ignore' });
}

/**
 * A child process running a TypeScript file; resolves once it prints `PORT <n>`. Pinned to CPU 0 when
 * `pinned()` (CPU-cost benches), unless `pin: false` (latency benches let the scheduler place it).
 */
export async function startChild(
  file: string,
  args: string[],
  opts: { pin?: boolean } = {},
): Promise<{ port: number; child: ChildProcess }> {
  const argv = [process.execPath, '--import', 'tsx', file, ...args];
  const [cmd, ...rest] = pinned() && opts.pin !== false ? ['/usr/bin/taskset', '-c', '0', ...argv] : argv;
  const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${file} ${args.join(' ')} exited with ${code}`)));
  });
  return { port, child };
}

/** CPU time (user + system, µs) a child has used so far (it answers the IPC message `cpu`). */
export function childCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      const cpu = (m as { cpu?: NodeJS.CpuUsage }).cpu;
      if (!cpu) return;
      child.off('message', on);
      resolve(cpu.user + cpu.system);
    };
    child.on('message', on);
    child.send('cpu');
  });
}

/** Stops a child and waits for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** `12.3 %`. */
export const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** A ratio - 1 as a signed percentage (`+6.6 %`, `-0.8 %`). */
export const signedPct = (x: number) => `${x >= 0 ? '+' : ''}${pct(x)}`;

/** Prints rows as an aligned table. */
export function table(header: string[], rows: (string | number)[][]): void {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  for (const [i, r] of all.entries()) {
    process.stdout.write(`${r.map((c, j) => c.padEnd(widths[j]!)).join('  ')}\n`);
    if (i === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  }
}

/**
 * Bundles a benchmark's child script to plain JavaScript as the package's own code is built
 * (`bundleOptions` of scripts/bundle.ts: esbuild, Kysely and zod inlined, other packages external), so
 * the child runs prodmon as it ships and pays nothing for compiling TypeScript at run time. Dynamic
 * imports stay separate chunks (`splitting`), so a child loads only the code it runs. `outDir` (default
 * node_modules/.cache/prodmon-bench) must be inside the repository, so package imports resolve from its
 * node_modules. Returns the bundle's path.
 */
export async function bundleChild(
  source: string,
  outDir = fileURLToPath(new URL('../node_modules/.cache/prodmon-bench/', import.meta.url)),
): Promise<string> {
  // esbuild is tsx's own dependency (no type declarations needed for this one call)
  const esbuild = (await import('esbuild' as string)) as {
    build(o: Record<string, unknown>): Promise<unknown>;
  };
  await esbuild.build({
    ...bundleOptions(),
    entryPoints: [source],
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
  });
  return join(outDir, `${basename(source, '.ts')}.mjs`);
}
