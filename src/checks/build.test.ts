import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../config/load.js';
import { FakeClock } from '../core/clock.js';
import { buildChecks, builtinSpecs } from './build.js';

const parse = (doc: Record<string, unknown>) => parseConfig(doc, { env: {}, dataDir: '/srv/prodmon-data' });

describe('building checks from the config', () => {
  test('zero config gets the built-in host and self checks, none critical, disk on the data directory', () => {
    const config = parse({});
    const checks = buildChecks(config, { clock: new FakeClock() });
    assert.deepEqual(
      checks.map((c) => [c.name, c.kind, c.critical, c.timeout]),
      [
        ['disk', 'disk', false, 5000],
        ['memory', 'memory', false, 5000],
        ['cpu', 'cpu', false, 5000],
        ['event_loop', 'event_loop', false, 5000],
        ['self', 'self', false, 5000],
      ],
    );
    assert.deepEqual(builtinSpecs(config)[0], {
      name: 'disk',
      kind: 'disk',
      timeout: 5000,
      critical: false,
      paths: ['/srv/prodmon-data'],
    });
  });

  test('a configured kind replaces its built-in; builtin_checks: false turns them off', () => {
    const config = parse({
      health: {
        checks: [
          { name: 'volumes', kind: 'disk', paths: ['/'], critical: true },
          { name: 'db', kind: 'postgres', url: 'postgres://u:p4ssword@127.0.0.1/x', timeout: '2s' },
        ],
      },
    });
    const checks = buildChecks(config, { clock: new FakeClock() });
    assert.deepEqual(
      checks.map((c) => `${c.name}:${c.kind}:${c.critical}:${c.timeout}`),
      [
        'volumes:disk:true:5000',
        'db:postgres:true:2000',
        'memory:memory:false:5000',
        'cpu:cpu:false:5000',
        'event_loop:event_loop:false:5000',
        'self:self:false:5000',
      ],
    );
    const off = parse({ health: { builtin_checks: false } });
    assert.deepEqual(buildChecks(off, { clock: new FakeClock() }), []);
  });

  test('loading the config does not load the database drivers', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { parseConfig } from './src/config/load.ts';
         import { createRequire } from 'node:module';
         parseConfig({ health: { checks: [{ name: 'db', kind: 'postgres', url: 'postgres://x@h/d' }, { name: 'c', kind: 'redis', url: 'redis://h' }, { name: 'm', kind: 'mysql', url: 'mysql://h/d' }] } }, { env: {} });
         const cache = createRequire(import.meta.url).cache;
         console.log(JSON.stringify(Object.keys(cache).filter((k) => /node_modules\\/(pg|mysql2|redis|@redis)\\//.test(k))));`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(out.trim(), '[]');
  });

  test('an unknown option of a kind is reported with a suggestion; a bad regex and a bad URL too', () => {
    assert.throws(
      () =>
        parse({ health: { checks: [{ name: 'api', kind: 'http', url: 'http://x/', body_contain: 'ok' }] } }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /health\.checks\[0\]: unknown key "body_contain" \(did you mean "body_contains"\?\)/.test(
          err.message,
        ),
    );
    assert.throws(
      () => parse({ health: { checks: [{ name: 'api', kind: 'http', url: 'http://x/', body_regex: '(' }] } }),
      /health\.checks\[0\]\.body_regex: expected a valid regular expression/,
    );
    assert.throws(
      () => parse({ health: { checks: [{ name: 'api', kind: 'http', url: 'ftp://x/' }] } }),
      /health\.checks\[0\]\.url: expected an http:\/\/ or https:\/\/ URL/,
    );
    assert.throws(
      () => parse({ health: { checks: [{ name: 'c', kind: 'redis' }] } }),
      /health\.checks\[0\]\.url/,
    );
  });
});
