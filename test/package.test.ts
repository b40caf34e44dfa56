/**
 * The package as `npm ci` builds it (`npm run build`: scripts/bundle.ts, then tsc's declarations): what
 * an app that installs prodmon imports. Every export resolves to a built file with its types; the
 * embedded monitor runs from `dist/` in plain Node (no tsx) and finds the dashboard's files; Kysely
 * and zod are inside prodmon's files, not loaded from node_modules; `prodmon/agent` loads none of a
 * whole monitor's packages.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AssetStore } from '../src/dashboard/assets.js';
import { tempDir } from './support/services.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, { types: string; import: string }>;
  bin: Record<string, string>;
};

/** The files `entry` loads (following relative imports) and the packages it imports from node_modules. */
function graph(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.includes(file)) continue;
    files.push(file);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)"([^"]+)"/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) todo.push(join(dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec : spec.split('/')[0]!);
    }
  }
  return { files, packages };
}

/** The newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let at = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) at = Math.max(at, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs);
  }
  return at;
}

/** Whether dist/ was built after the last change to what the build reads. */
function builtAfterSources(): boolean {
  const outputs = ['dist/index.js', 'dist/index.d.ts', 'dist/agent.js', 'dist/cli/run.js'].map((f) =>
    join(ROOT, f),
  );
  if (!outputs.every((f) => existsSync(f))) return false;
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  const inputs = ['src', 'scripts'].map((d) => newest(join(ROOT, d)));
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'])
    if (existsSync(join(ROOT, f))) inputs.push(statSync(join(ROOT, f)).mtimeMs);
  return built > Math.max(...inputs);
}

describe('the built package (dist/, as npm ci builds it)', () => {
  // Built here from these sources when dist/ is missing or older than any of them (a dist/ left by an
  // earlier build may be stale); `npm ci` has just built it on a fresh clone.
  before(() => {
    if (builtAfterSources()) return;
    try {
      execFileSync('npm', ['run', 'build'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: 'pipe',
        timeout: 300_000,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`npm run build failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  });

  test('every export is a built file with its type declarations, and the bin runs the built CLI', () => {
    for (const [name, target] of Object.entries(pkg.exports)) {
      assert.ok(existsSync(join(ROOT, target.import)), `${name}: ${target.import}`);
      assert.ok(existsSync(join(ROOT, target.types)), `${name}: ${target.types}`);
    }
    const bin = readFileSync(join(ROOT, pkg.bin.prodmon!), 'utf8');
    const cli = /import '\.\.\/(dist\/[^']+)'/.exec(bin)?.[1];
    assert.ok(cli && existsSync(join(ROOT, cli)), bin);
  });

  test('Kysely and zod are bundled in: no module of theirs is loaded from node_modules', () => {
    const { files, packages } = graph(join(ROOT, 'dist/index.js'));
    assert.ok(!packages.has('kysely') && !packages.has('zod'), [...packages].join(', '));
    const code = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    assert.match(code, /\bSelectQueryBuilderImpl\b/, 'Kysely is inside');
    assert.match(code, /ZodError/, 'zod is inside');
  });

  test('prodmon/agent loads none of the packages of a whole monitor', () => {
    const { files, packages } = graph(join(ROOT, pkg.exports['./agent']!.import));
    assert.deepEqual([...packages], ['@datadog/sketches-js']);
    for (const f of files) {
      const code = readFileSync(f, 'utf8');
      assert.doesNotMatch(code, /ZodError|SelectQueryBuilderImpl/, f);
    }
  });

  test('an embedded monitor runs from dist in plain Node: health, a dashboard asset, a clean stop', () => {
    const dir = tempDir();
    try {
      // plain node, the package imported by its name (self-reference), as an app would
      const script = `
        import { createServer } from 'node:http';
        import { createMonitor, listArchives } from 'prodmon';
        import { createAgent } from 'prodmon/agent';
        const monitor = createMonitor({}, { dataDir: ${JSON.stringify(dir.path)}, cwd: ${JSON.stringify(dir.path)}, env: {} });
        await monitor.start();
        const server = createServer((req, res) => monitor.handler(req, res, () => { res.statusCode = 404; res.end(); }));
        await new Promise((r) => server.listen(0, '127.0.0.1', r));
        const base = 'http://127.0.0.1:' + server.address().port;
        const health = await fetch(base + '/health/');
        const asset = await fetch(base + '/production/dashboard/assets/app.js');
        const shared = await fetch(base + '/production/dashboard/assets/format.js');
        const agent = createAgent({ push: { url: base, token: 'push-token-0123456789' } });
        console.log(JSON.stringify({
          health: health.status, status: (await health.json()).status,
          asset: asset.status, type: asset.headers.get('content-type'), bytes: (await asset.arrayBuffer()).byteLength,
          shared: shared.status, sharedText: await shared.text(),
          agent: typeof agent.middleware, archives: listArchives(${JSON.stringify(dir.path)}).length,
        }));
        server.close();
        await monitor.stop();
      `;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      const got = JSON.parse(
        out
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('{"health"'))
          .pop()!,
      ) as {
        health: number;
        status: string;
        asset: number;
        type: string;
        bytes: number;
        shared: number;
        sharedText: string;
        agent: string;
        archives: number;
      };
      assert.equal(got.health, 200);
      assert.equal(got.status, 'healthy');
      assert.equal(got.asset, 200);
      assert.match(got.type, /javascript/);
      assert.equal(got.bytes, readFileSync(join(ROOT, 'src/dashboard/static/app.js')).length);
      assert.equal(got.shared, 200);
      assert.equal(
        got.sharedText,
        readFileSync(join(ROOT, 'src/core/format.js'), 'utf8'),
        'the shared figures',
      );
      assert.equal(got.agent, 'function');
      assert.equal(got.archives, 0, 'the archive reader is exported (no archives in a new data dir)');
    } finally {
      dir.cleanup();
    }
  });

  test('the packed package holds every file the dashboard serves from src/', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const packed = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    const fromSrc = new AssetStore()
      .all()
      .map((a) => relative(ROOT, a.file).split(sep).join('/'))
      .filter((f) => f.startsWith('src/'));
    assert.ok(fromSrc.includes('src/core/format.js') && fromSrc.length >= 7, fromSrc.join(', '));
    for (const f of fromSrc) assert.ok(packed.has(f), `${f} is not in the package ("files" of package.json)`);
  });
});
