/**
 * The package's JavaScript: `src/index.ts` (prodmon), `src/agent.ts` (prodmon/agent) and
 * `src/cli/run.ts` (the `prodmon` command) bundled by esbuild into `dist/` (shared code in
 * `dist/chunks/`), with Kysely and zod inlined; `tsc -p tsconfig.build.json` then writes the type
 * declarations beside them. `npm run build` runs both (and `npm ci` runs the build).
 *
 * Why a bundle and not tsc's one file per module: Node keeps a price per loaded ES module (its source,
 * its compiled code, its module record), and prodmon is paid for in the user's process. Importing
 * Kysely's 280 ES modules cost 16.8 MB of RSS in a fresh process, the same code bundled into one file
 * 2.3 MB; zod's modules 11.8 MB. An embedded monitor (createMonitor, started) from tsc's output kept
 * 57-62 MB of RSS; bundled with Kysely and zod inlined 43-48 MB (measured with `node --expose-gc`,
 * RSS after GC). The other packages stay external: CommonJS (cheaper to load), native (better-sqlite3),
 * loaded only on first use (pg, mysql2, redis, nodemailer, yaml: `src/core/lazy.ts`), or resolving
 * files of their own at run time (pino's transports, uPlot's files served by the dashboard).
 *
 *   node --import tsx scripts/bundle.ts
 */
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Packages bundled into prodmon's files instead of being imported from node_modules at run time. */
export const INLINED_PACKAGES = ['kysely', 'zod'] as const;

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every dependency but the inlined ones, and their subpaths (`zod/v4/core`), as esbuild externals. */
export function externalPackages(): string[] {
  const pkg = require('../package.json') as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const names = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].filter(
    (n) => !(INLINED_PACKAGES as readonly string[]).includes(n),
  );
  return names.flatMap((n) => [n, `${n}/*`]);
}

/** esbuild's options for prodmon's code as the package ships it (also what the benchmarks run). */
export function bundleOptions(): Record<string, unknown> {
  return {
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: externalPackages(),
    logLevel: 'error',
  };
}

async function main(): Promise<void> {
  // esbuild is tsx's own dependency and a devDependency here (no type declarations needed for one call)
  const esbuild = (await import('esbuild' as string)) as {
    build(o: Record<string, unknown>): Promise<unknown>;
  };
  const out = `${ROOT}dist`;
  rmSync(out, { recursive: true, force: true });
  await esbuild.build({
    ...bundleOptions(),
    entryPoints: ['src/index.ts', 'src/agent.ts', 'src/cli/run.ts'].map((e) => `${ROOT}${e}`),
    outbase: `${ROOT}src`,
    outdir: out,
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
