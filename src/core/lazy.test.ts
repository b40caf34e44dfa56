/**
 * Importing prodmon must not load the packages only some setups need (pg, nodemailer, yaml): they are
 * loaded on first use. Checked in a fresh process, through the CommonJS module cache those packages
 * land in when loaded.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Which of `names` are loaded after running `code` (an ES module body) in a fresh process. */
function loadedAfter(code: string, names: string[]): Record<string, boolean> {
  const script = `
    import { createRequire } from 'node:module';
    ${code}
    const cache = createRequire(import.meta.url).cache;
    const loaded = (n) => Object.keys(cache).some((k) => k.includes('/node_modules/' + n + '/'));
    process.stdout.write(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, loaded(n)]))));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out) as Record<string, boolean>;
}

describe('packages loaded on first use', () => {
  it('importing prodmon loads neither pg, nodemailer nor yaml', () => {
    const got = loadedAfter(`await import('./src/index.ts');`, ['pg', 'nodemailer', 'yaml', 'prom-client']);
    assert.deepEqual(got, { pg: false, nodemailer: false, yaml: false, 'prom-client': true });
  });

  it('loads each when first asked for', () => {
    const got = loadedAfter(
      `const l = await import('./src/core/lazy.ts');
       l.pgModule(); l.nodemailerModule(); l.yamlModule();`,
      ['pg', 'nodemailer', 'yaml'],
    );
    assert.deepEqual(got, { pg: true, nodemailer: true, yaml: true });
  });
});
