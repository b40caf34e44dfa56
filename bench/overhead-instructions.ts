/**
 * Instructions per request added by prodmon's adapter and by the prom-client peer middleware, counted
 * by valgrind instead of timed: CPU time per request on a shared machine moves by tens of percent from
 * one round to the next, an instruction count of a seeded run by well under one percent. The hello
 * apps of bench/hello-apps.ts (the same as bench/overhead.ts serves; prodmon with its real engine and
 * store) are driven in process through in-memory sockets (bench/overhead-driver.ts, bundled to plain
 * JavaScript first), under `valgrind --tool=cachegrind` with `node --single-threaded` (so the
 * compiler and GC threads do not make counts vary) and fixed V8 hash and random seeds (without them,
 * two runs of the same Express app differed by up to 16k instructions per request, as much as the
 * differences measured; with them, by 0.5k). Each variant runs twice, with SHORT and LONG requests after
 * the same warm-up (20,000 requests, so that the JIT has settled); (instructions of LONG - of SHORT) /
 * (LONG - SHORT) is the cost of one request, start-up excluded. What still varies is garbage
 * collection (a major GC is tens of millions of instructions, and when it falls moves with the
 * build): over 8,000 requests the same variant moved by 3-5k per request, so the window is 40,000
 * requests (a GC then weighs about 1k per request). Compare variants of one run only: a change to any
 * bundled module moves every count, bare included.
 *
 * Each count is also split by function (callgrind's, with node's `--perf-basic-prof` map naming V8's
 * compiled JavaScript): what garbage collection and the JIT compiler (V8's heap and compiler code)
 * took in the window is printed apart, and "added, work" is what is left, the request's own work. GC
 * and compilation in a window of one process depend on where its collections and tiering decisions
 * happened to fall (over 40,000 requests, three runs of node:http put prodmon's GC at -0.1k, -1.8k
 * and +2.9k instructions per request against bare's), so "added, work" is the steadier
 * figure of what prodmon makes a request do; the total is still what a request costs on average.
 * `BENCH_TOP=n` also lists the n functions whose instructions per request differ most from bare's
 * (V8 inlines small functions into their callers, so a function's figure can include code of others,
 * and bare's own code can appear inlined differently).
 *
 *   node --import tsx bench/overhead-instructions.ts     # needs valgrind; about 45 min (2 runs at once)
 *   BENCH_FRAMEWORKS=http,fastify node --import tsx bench/overhead-instructions.ts     # about 13 min
 *
 * What it counts is the per-request path. prodmon's engine runs without its timers (flush and
 * sampling loops, event-loop-delay monitor): under valgrind a request takes ~50x longer, so work done
 * per unit of time would be charged ~50x too often to each request. Their real cost, a few
 * milliseconds every 10 s, is what bench/shop-idle.ts measures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleChild, pct, table } from './support.js';

const SOURCE = fileURLToPath(new URL('./overhead-driver.ts', import.meta.url));
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'http,express,fastify').split(',');
const VARIANTS = ['bare', 'prodmon', 'promclient'] as const;
const WARM = Number(process.env.BENCH_WARM ?? 20_000);
const SHORT = Number(process.env.BENCH_SHORT ?? 1000);
const LONG = Number(process.env.BENCH_LONG ?? 41_000);
const TOP = Number(process.env.BENCH_TOP ?? 0);

/** Instructions of one run: in all, per kind of work, and per function (self cost). */
interface Count {
  total: number;
  gc: number;
  jit: number;
  fns: Map<string, number>;
}

/** V8's garbage collector (heap, scavenger, marking, sweeping, compaction). */
const GC =
  /v8::internal::\S*(Heap|Scaveng|MarkCompact|Marking|Sweep|Evacuat|Compaction|Minor|Young|LiveObject|RememberedSet|SlotSet|MemoryAllocator|PagedSpace|SemiSpace|NewSpace|Page|Visitor|ObjectCache|IteratePointers|GCTracer)|heap::base::|cppgc::/;
/** V8's parser, interpreter generator and optimizing compilers (tiering up, not running the code). */
const JIT =
  /v8::internal::(compiler::|maglev::|baseline::|interpreter::Bytecode|Parser|Scanner|PreParser|Ast|Compiler|Deoptimizer|Zone)|^Builtins_CompileLazy/;

/**
 * Whether a function is the compiler's, the collector's or the request's own work, by its qualified
 * name (`v8::internal::(anonymous namespace)::IterateObjectCache(…)`: the arguments left out). V8's
 * write barrier (`RecordWrite`) runs in the code that writes, so it is counted as work.
 */
function kindOf(name: string): 'gc' | 'jit' | 'work' {
  const qualified = name.replaceAll('(anonymous namespace)', '').split('(')[0]!;
  return JIT.test(qualified) ? 'jit' : GC.test(qualified) ? 'gc' : 'work';
}

/**
 * Self instructions per function of a callgrind output (`--dump-line=no`), naming V8's compiled
 * JavaScript from node's perf map (`address size name` lines), as `name (source)`.
 */
function parseCallgrind(
  out: string,
  perfMap: string,
  bundle: string,
  bundleModules: [number, string][],
): Count {
  const ranges: [number, number, string][] = [];
  for (const line of readFileSync(perfMap, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) ranges.push([Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16), m[3]!]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const jsName = (addr: number): string | undefined => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid]![0] <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    const r = ranges[hi];
    if (!r || addr >= r[0] + r[1]) return undefined;
    // `JS:*name file:///…/bundle.mjs:line:col` (the tier mark and the column dropped)
    const m = /^JS:[*^~+]?(\S*) (?:file:\/\/)?(\S+?)(?::(\d+):\d+)?$/.exec(r[2]);
    if (!m) return r[2];
    const [, name, file, line] = m;
    if (file === bundle && line !== undefined) {
      // the bundled module the line belongs to (esbuild marks each with a `// path` comment)
      let mod = '';
      for (const [from, path] of bundleModules) if (from <= Number(line)) mod = path;
      return `${name || '(anonymous)'} (${mod})`;
    }
    return `${name || '(anonymous)'} (${file!.replace(/^.*node_modules\//, '')})`;
  };
  const names = new Map<string, string>();
  const fnName = (spec: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    if (!m) return spec;
    if (m[2] !== undefined)
      names.set(m[1]!, /^0x[0-9a-f]+$/.test(m[2]) ? (jsName(Number.parseInt(m[2], 16)) ?? m[2]) : m[2]);
    return names.get(m[1]!) ?? spec;
  };
  const fns = new Map<string, number>();
  let fn = '';
  let inCall = false;
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) fn = fnName(line.slice(3));
    else if (line.startsWith('cfn=')) fnName(line.slice(4));
    else if (line.startsWith('calls=')) inCall = true;
    else if (/^[0-9+*-]/.test(line)) {
      if (inCall)
        inCall = false; // the inclusive cost of a call: counted in the callee's own lines
      else {
        const v = Number(line.trim().split(/\s+/)[1] ?? 0);
        fns.set(fn, (fns.get(fn) ?? 0) + v);
      }
    }
  }
  let total = 0;
  let gc = 0;
  let jit = 0;
  for (const [name, v] of fns) {
    total += v;
    const k = kindOf(name);
    if (k === 'gc') gc += v;
    else if (k === 'jit') jit += v;
  }
  return { total, gc, jit, fns };
}

/** Instructions counted by callgrind over a whole run of the driver, split as {@link Count}. */
function count(
  child: string,
  framework: string,
  variant: string,
  n: number,
  modules: [number, string][],
): Promise<Count> {
  // a directory of its own, also the run's working directory: node's --perf-basic-prof leaves a V8 log there
  const dir = mkdtempSync(join(tmpdir(), 'prodmon-callgrind-'));
  const out = join(dir, 'callgrind.out');
  const args = ['--tool=callgrind', '--dump-line=no', '--dump-instr=no', `--callgrind-out-file=${out}`];
  const node = [
    process.execPath,
    '--single-threaded',
    '--hash-seed=1',
    '--random-seed=1',
    '--perf-basic-prof',
    child,
    framework,
    variant,
    String(n),
    String(WARM),
  ];
  return new Promise((resolve, reject) => {
    const proc = spawn('valgrind', [...args, ...node], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    // node writes its perf map as /tmp/perf-<pid>.map; valgrind runs it in its own process
    const perfMap = `/tmp/perf-${proc.pid}.map`;
    let err = '';
    proc.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`${framework}/${variant}/${n}: exit ${code}\n${err.slice(-2000)}`);
        // the functions' self counts add up to valgrind's total (its `I refs`)
        resolve(parseCallgrind(out, perfMap, child, modules));
      } catch (e) {
        reject(e);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(perfMap, { force: true });
      }
    });
  });
}

/** The first line of each module in the bundle (esbuild starts each with a `// path` comment). */
function bundleModules(bundle: string): [number, string][] {
  const list: [number, string][] = [];
  for (const [i, line] of readFileSync(bundle, 'utf8').split('\n').entries()) {
    const m = /^\/\/ ((?:src|bench|node_modules)\/\S+)$/.exec(line);
    if (m) list.push([i + 1, m[1]!]);
  }
  return list;
}

/** Per request: (long - short) / (LONG - SHORT), for the total, each kind and each function. */
function perRequest(short: Count, long: Count): Count {
  const n = LONG - SHORT;
  const fns = new Map<string, number>();
  for (const k of new Set([...short.fns.keys(), ...long.fns.keys()]))
    fns.set(k, ((long.fns.get(k) ?? 0) - (short.fns.get(k) ?? 0)) / n);
  return {
    total: (long.total - short.total) / n,
    gc: (long.gc - short.gc) / n,
    jit: (long.jit - short.jit) / n,
    fns,
  };
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    process.stderr.write('valgrind is not installed (apt-get install valgrind)\n');
    process.exit(1);
  }
  const started = performance.now();
  const child = await bundleChild(SOURCE);
  const modules = bundleModules(child);
  process.stdout.write(
    `overhead in instructions: ${FRAMEWORKS.join(', ')}; (${LONG} - ${SHORT} requests) after ${WARM} warm-up, in process, 50 connections\n\n`,
  );
  const rows: (string | number)[][] = [];
  const verdicts: string[] = [];
  const tops: string[] = [];
  for (const fw of FRAMEWORKS) {
    const per: Record<string, Count> = {};
    for (const v of VARIANTS) {
      const [short, long] = await Promise.all([
        count(child, fw, v, SHORT, modules),
        count(child, fw, v, LONG, modules),
      ]);
      per[v] = perRequest(short, long);
    }
    const bare = per.bare!;
    const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
    const signed = (s: string) => (s.startsWith('-') ? s : `+${s}`);
    /** What a request's own work is: all but the collector's and the compiler's instructions. */
    const work = (c: Count) => c.total - c.gc - c.jit;
    const added = (v: string) => per[v]!.total - bare.total;
    const addedWork = (v: string) => work(per[v]!) - work(bare);
    const cell = (v: string) =>
      `${k(per[v]!.total)} (${signed(k(added(v)))}, ${signed(pct(added(v) / bare.total))})`;
    const workCell = (v: string) =>
      `${signed(k(addedWork(v)))} (${signed(pct(addedWork(v) / work(bare)))}); GC ${signed(k(per[v]!.gc - bare.gc))}, JIT ${signed(k(per[v]!.jit - bare.jit))}`;
    rows.push([
      fw,
      `${k(bare.total)} (work ${k(work(bare))})`,
      cell('prodmon'),
      workCell('prodmon'),
      cell('promclient'),
      workCell('promclient'),
    ]);
    verdicts.push(
      `${fw}: prodmon adds ${added('prodmon') < added('promclient') ? 'fewer' : 'MORE'} instructions per request than prom-client (${addedWork('prodmon') < addedWork('promclient') ? 'fewer' : 'MORE'} of the request's own work)`,
    );
    if (TOP > 0) {
      const p = per.prodmon!;
      const diffs = [...new Set([...bare.fns.keys(), ...p.fns.keys()])]
        .filter((name) => kindOf(name) === 'work')
        .map((name) => [name, (p.fns.get(name) ?? 0) - (bare.fns.get(name) ?? 0)] as const)
        .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
        .slice(0, TOP);
      tops.push(`\n${fw}: functions whose instructions per request differ most, prodmon - bare (work only)`);
      for (const [name, d] of diffs) tops.push(`${d >= 0 ? '+' : ''}${d.toFixed(0).padStart(6)}  ${name}`);
    }
  }
  table(
    [
      'framework',
      'bare instr/req',
      'prodmon (added)',
      'prodmon added: work; GC, JIT',
      'prom-client (added)',
      'prom-client added: work; GC, JIT',
    ],
    rows,
  );
  process.stdout.write(`\n${verdicts.join('\n')}\n`);
  if (tops.length > 0) process.stdout.write(`${tops.join('\n')}\n`);
  process.stdout.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
