import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AssetStore } from './assets.js';

const src = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

describe('dashboard assets', () => {
  test('the page gets the figures module the server imports: the same file, served and imported by the page', () => {
    const assets = new AssetStore();
    const served = assets.get('format.js')!;
    assert.deepEqual(served.body, readFileSync(src('core/format.js')));
    assert.match(served.type, /^text\/javascript/);
    assert.equal(existsSync(src('dashboard/static/format.js')), false, 'no copy among the page files');
    for (const mod of ['charts.js', 'dom.js'])
      assert.match(assets.get(mod)!.body.toString(), /from '\.\/format\.js'/, mod);
  });

  test('only listed names are assets: a path or an unknown name is none', () => {
    const assets = new AssetStore();
    for (const name of ['app.js', 'format.js', 'style.css', 'uPlot.min.js'])
      assert.ok(assets.get(name), name);
    for (const name of ['../core/format.js', 'core/format.js', 'tsconfig.json', 'format.d.ts', 'toString'])
      assert.equal(assets.get(name), undefined, name);
  });
});
