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
 *   node --import tsx bench/overhead-instructions.ts     # needs valgrind; about 20 min (2 runs at once)
 *   BENCH_FRAMEWORKS=express node --import tsx bench/overhead-instructions.ts     # about 13 min
 *
 * What it counts is the per-request path. prodmon's engine runs without its timers (flush and
 * sampling loops, event-loop-delay monitor): under valgrind a request takes ~50x longer, so work done
 * per unit of time would be charged ~50x too often to each request. Their real cost, a few
 * milliseconds every 10 s, is what bench/shop-idle.ts measures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleChild, pct, table } from './support.js';

const SOURCE = fileURLToPath(new URL('./overhead-driver.ts', import.meta.url));
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'http,express,fastify').split(',');
const VARIANTS = ['bare', 'prodmon', 'promclient'] as const;
const WARM = Number(process.env.BENCH_WARM ?? 20_000);
const SHORT = Number(process.env.BENCH_SHORT ?? 1000);
const LONG = Number(process.env.BENCH_LONG ?? 41_000);

/** Instructions counted by cachegrind over a whole run of the driver. */
function count(child: string, framework: string, variant: string, n: number): Promise<number> {
  const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null'];
  const node = [
    process.execPath,
    '--single-threaded',
    '--hash-seed=1',
    '--random-seed=1',
    child,
    framework,
    variant,
    String(n),
    String(WARM),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', [...args, ...node], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', (code) => {
      const m = /I\s+refs:\s+([\d,]+)/.exec(err);
      if (code !== 0 || !m)
        reject(new Error(`${framework}/${variant}/${n}: exit ${code}\n${err.slice(-2000)}`));
      else resolve(Number(m[1]!.replaceAll(',', '')));
    });
  });
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    process.stderr.write('valgrind is not installed (apt-get install valgrind)\n');
    process.exit(1);
  }
  const started = performance.now();
  const child = await bundleChild(SOURCE);
  process.stdout.write(
    `overhead in instructions: ${FRAMEWORKS.join(', ')}; (${LONG} - ${SHORT} requests) after ${WARM} warm-up, in process, 50 connections\n\n`,
  );
  const rows: (string | number)[][] = [];
  const verdicts: string[] = [];
  for (const fw of FRAMEWORKS) {
    const per: Record<string, number> = {};
    for (const v of VARIANTS) {
      const [short, long] = await Promise.all([count(child, fw, v, SHORT), count(child, fw, v, LONG)]);
      per[v] = (long - short) / (LONG - SHORT);
    }
    const bare = per.bare!;
    const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
    const signed = (s: string) => (s.startsWith('-') ? s : `+${s}`);
    const added = (v: string) => per[v]! - bare;
    rows.push([
      fw,
      k(bare),
      `${k(per.prodmon!)} (${signed(k(added('prodmon')))}, ${signed(pct(added('prodmon') / bare))})`,
      `${k(per.promclient!)} (${signed(k(added('promclient')))}, ${signed(pct(added('promclient') / bare))})`,
    ]);
    verdicts.push(
      `${fw}: prodmon adds ${added('prodmon') < added('promclient') ? 'fewer' : 'MORE'} instructions per request than prom-client`,
    );
  }
  table(['framework', 'bare instr/req', 'prodmon (added)', 'prom-client (added)'], rows);
  process.stdout.write(`\n${verdicts.join('\n')}\n`);
  process.stdout.write(`total ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
