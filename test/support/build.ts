/**
 * The sources bundled as the package ships them (scripts/bundle.ts's esbuild options), for the tests
 * that start prodmon in a child process: a child started through tsx spends about 2 s of CPU loading and
 * transforming some 400 modules, the bundle about 0.5 s. The bundle is built once per state of the
 * sources and shared by every test process: it lives in `node_modules/.cache/prodmon-test/<key>/`, where
 * the key hashes the path, size and modification time of every file under `src/`, `test/support/`,
 * `scripts/` and `examples/shop/`
 * (so an edit rebuilds it), and it is moved into place with one rename (so test processes building it at
 * the same time never see half of it). From there the dashboard finds its files in the repository's
 * `src/` and the packages resolve from the repository's `node_modules`, as from `dist/`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleOptions } from '../../scripts/bundle.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'prodmon-test');
/** Bundles built for other states of the sources, kept for test processes still using them. */
const KEEP = 4;

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/** A hash of the sources' paths, sizes and modification times, and of the entries asked for. */
function sourcesKey(entries: readonly string[]): string {
  const hash = createHash('sha256');
  for (const dir of ['src', 'test/support', 'scripts', 'examples/shop'])
    for (const path of [...files(join(ROOT, dir))].sort()) {
      const s = statSync(path);
      hash.update(`${relative(ROOT, path)}\0${s.size}\0${s.mtimeMs}\n`);
    }
  hash.update(entries.join('\n'));
  return hash.digest('hex').slice(0, 16);
}

/** Removes all but the newest {@link KEEP} bundles. */
function prune(): void {
  const dirs = readdirSync(CACHE, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.includes('.tmp-'))
    .map((d) => ({ path: join(CACHE, d.name), at: statSync(join(CACHE, d.name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const d of dirs.slice(KEEP)) rmSync(d.path, { recursive: true, force: true });
}

/** What the tests run bundled: the CLI and the test processes that start prodmon. */
export const BUNDLED_ENTRIES = [
  'src/cli/run.ts',
  'src/logging/fixtures/crash-writer.ts',
  'src/logging/fixtures/logs-cli.ts',
  'test/support/hub-child.ts',
  'test/support/leader-child.ts',
  'test/support/outbox-child.ts',
  'test/support/shop-instance.ts',
] as const;

const built = new Map<string, string>();

/**
 * The bundled copy of `entry` (one of {@link BUNDLED_ENTRIES}, as a path in the repository such as
 * `src/cli/run.ts`, or absolute): its absolute path, building the bundle of every entry first if this
 * state of the sources has none yet.
 */
export function bundled(entry: string, group: readonly string[] = BUNDLED_ENTRIES): string {
  const name = isAbsolute(entry) ? relative(ROOT, entry) : entry;
  if (!group.includes(name))
    throw new Error(`${name} is not one of the bundled entries (test/support/build.ts)`);
  const key = sourcesKey(group);
  let dir = built.get(key);
  if (!dir) {
    dir = join(CACHE, key);
    if (!existsSync(dir)) {
      mkdirSync(CACHE, { recursive: true });
      const tmp = `${dir}.tmp-${process.pid}`;
      // esbuild is tsx's own dependency and a devDependency here; its synchronous API keeps
      // spawnCli synchronous, and the build takes about a second once per state of the sources.
      const esbuild = createRequire(import.meta.url)('esbuild') as {
        buildSync(o: Record<string, unknown>): unknown;
      };
      esbuild.buildSync({
        ...bundleOptions(),
        entryPoints: group.map((e) => join(ROOT, e)),
        outbase: ROOT,
        outdir: tmp,
        entryNames: '[dir]/[name]',
        chunkNames: 'chunks/[name]-[hash]',
      });
      try {
        renameSync(tmp, dir);
      } catch {
        // another test process moved the same bundle into place first
        rmSync(tmp, { recursive: true, force: true });
      }
      prune();
    }
    built.set(key, dir);
  }
  return join(dir, name.replace(/\.ts$/, '.js'));
}
