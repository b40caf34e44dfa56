/**
 * Which folders may import the dashboard. `src/dashboard/static/` is the page's code, served to the
 * browser and never imported by anything (what the server shares with the page, such as
 * `src/core/format.js`, lives outside it). The rest of `src/dashboard/` is imported, outside it, only
 * where the dashboard is wired in: the App and the routes that serve its pages, forms and JSON API.
 * Tests and benchmarks may drive any part but the page's code. Imports are read by TypeScript's own
 * scanner (`ts.preProcessFile`: static, type, dynamic imports and re-exports).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The modules of src/ outside src/dashboard/ that wire the dashboard in. */
const WIRING = ['src/app.ts', 'src/http/routes/dashboard.ts', 'src/http/routes/api.ts'];

/** Every .ts and .js file under `dir` (relative to the root, `/`-separated), node_modules left out. */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|js)$/.test(f) && !f.split(/[\\/]/).includes('node_modules'))
    .map((f) => `${dir}/${f.split('\\').join('/')}`);
}

/** The project files a file imports by a relative path (root-relative, as written, `.js` kept). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) =>
      relative(root, resolve(root, dirname(file), spec))
        .split('\\')
        .join('/'),
    );
}

const isTest = (f: string) => /\.test\.ts$/.test(f) || f.includes('/test-support/') || !f.startsWith('src/');

const files = ['src', 'test', 'bench', 'scripts', 'examples'].flatMap(sources);
const edges = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })));

test('the scan sees imports: the App imports the dashboard, a check the shared figures', () => {
  assert.ok(files.length > 300, `only ${files.length} files scanned`);
  const has = (from: string, to: string) => edges.some((e) => e.from === from && e.to === to);
  assert.ok(has('src/app.ts', 'src/dashboard/index.js'));
  assert.ok(has('src/checks/disk/index.ts', 'src/core/format.js'));
  assert.ok(has('src/dashboard/static/charts.js', 'src/dashboard/static/format.js'), 'the page as served');
});

test("nothing imports the page's code in src/dashboard/static (the browser's, served as files)", () => {
  const bad = edges.filter(
    (e) => e.to.startsWith('src/dashboard/static/') && !e.from.startsWith('src/dashboard/static/'),
  );
  assert.deepEqual(
    bad.map((e) => `${e.from} -> ${e.to}`),
    [],
  );
});

test('outside src/dashboard, only the wiring imports it (the App, the dashboard and API routes)', () => {
  const bad = edges.filter(
    (e) =>
      e.to.startsWith('src/dashboard/') &&
      !e.from.startsWith('src/dashboard/') &&
      !isTest(e.from) &&
      !WIRING.includes(e.from),
  );
  assert.deepEqual(
    bad.map((e) => `${e.from} -> ${e.to}`),
    [],
  );
  for (const w of WIRING)
    assert.ok(
      edges.some((e) => e.from === w && e.to.startsWith('src/dashboard/')),
      `${w} no longer imports the dashboard: take it off the list`,
    );
});
