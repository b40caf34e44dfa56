import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { ConfigError, loadConfig, parseConfig } from './load.js';
import { maskConfig, scrub } from './mask.js';

const dir = tempDir();
after(() => dir.cleanup());

function file(name: string, text: string): string {
  const p = join(dir.path, name);
  writeFileSync(p, text);
  return p;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    assert.equal(err.exitCode, 2);
    return err.problems;
  }
  assert.fail('expected the config to be rejected');
}

describe('config loading', () => {
  test('no file at all gives the specification defaults', () => {
    const c = loadConfig({ cwd: dir.path, env: {} });
    assert.equal(c.source, null);
    assert.equal(c.server.port, 9464);
    assert.equal(c.server.host, '127.0.0.1');
    assert.equal(c.store.driver, 'sqlite');
    assert.deepEqual(c.alerting.thresholds.api_response_time, {
      warning: 500,
      critical: 2000,
      enabled: true,
    });
    assert.deepEqual(c.alerting.thresholds.error_rate, { warning: 1, critical: 5, enabled: true });
    assert.deepEqual(c.alerting.thresholds.disk_usage, { warning: 85, critical: 95, enabled: true });
    assert.equal(c.alerting.cooldown, 15 * 60_000);
    assert.equal(c.alerting.auto_resolve_after, 30 * 60_000);
    assert.equal(c.logs.retention, 30 * 86_400_000);
    assert.equal(c.logs.max_size, 50 * 1024 * 1024);
    assert.equal(c.logs.performance_max_size, 100 * 1024 * 1024);
    assert.equal(c.jobs.cleanup, '0 3 * * *');
    assert.equal(c.paths.db, join(dir.path, '.prodmon', 'prodmon.db'));
    assert.equal(c.paths.logs, join(dir.path, '.prodmon', 'logs'));
  });

  test('a wrong type names the file, the field path, what was expected and what was found', () => {
    const p = file('bad-type.yaml', 'alerting:\n  thresholds:\n    cpu_usage: { warning: high }\n');
    assert.deepEqual(
      problems(() => loadConfig({ configPath: p, env: {} })),
      [`${p}: alerting.thresholds.cpu_usage.warning: expected a number, got "high"`],
    );
  });

  test('an unknown key suggests the nearest known key, at any depth', () => {
    const p = file('typo.yaml', 'alertign: {}\nalerting:\n  evaluation_intreval: 10s\n');
    assert.deepEqual(problems(() => loadConfig({ configPath: p, env: {} })).sort(), [
      `${p}: alerting: unknown key "evaluation_intreval" (did you mean "evaluation_interval"?)`,
      `${p}: unknown key "alertign" (did you mean "alerting"?)`,
    ]);
  });

  test('durations and sizes are parsed, bad ones named', () => {
    const c = parseConfig({ health: { refresh_interval: '2s' }, logs: { max_size: '1MB' } }, { env: {} });
    assert.equal(c.health.refresh_interval, 2000);
    assert.equal(c.logs.max_size, 1024 * 1024);
    assert.deepEqual(
      problems(() => parseConfig({ health: { refresh_interval: 'soon' } }, { env: {}, label: 'x.yaml' })),
      [
        'x.yaml: health.refresh_interval: expected a duration such as "500ms", "10s", "15m", "30d", got "soon"',
      ],
    );
  });

  test('${VAR} and ${VAR:-default} are substituted in values, with types kept for whole values', () => {
    const p = file(
      'env.yaml',
      'server:\n  port: ${PORT}\n  host: "${HOST:-0.0.0.0}"\ninstance: "web-${N}"\n',
    );
    const c = loadConfig({ configPath: p, env: { PORT: '8080', N: '3' } });
    assert.equal(c.server.port, 8080);
    assert.equal(c.server.host, '0.0.0.0');
    assert.equal(c.instanceId, 'web-3');
    assert.deepEqual(
      problems(() => loadConfig({ configPath: p, env: {} })),
      [
        `${p}: server.port: environment variable PORT is not set (write \${PORT:-default} for a default)`,
        `${p}: instance: environment variable N is not set (write \${N:-default} for a default)`,
      ],
    );
  });

  test('PRODMON_CONFIG names the file when --config is absent; a missing file is an error', () => {
    const p = file('via-env.yaml', 'server: { port: 9999 }\n');
    assert.equal(loadConfig({ cwd: dir.path, env: { PRODMON_CONFIG: p } }).server.port, 9999);
    assert.match(
      problems(() => loadConfig({ configPath: join(dir.path, 'nope.yaml'), env: {} }))[0]!,
      /no such file/,
    );
  });

  test('secrets never appear in error messages nor in the masked config', () => {
    const token = 'tok-0123456789abcdef-SECRET';
    const pgPassword = 'hunter2-pg-pass';
    const doc = {
      auth: { tokens: [{ name: 'ops', token, role: 'admin' }] },
      store: { driver: 'postgres', url: `postgres://app:${pgPassword}@db.internal:5432/shop` },
    };
    const c = parseConfig(doc, { env: {} });
    assert.ok(c.secrets.includes(token));
    assert.ok(c.secrets.includes(pgPassword));
    assert.ok(!Object.keys(c).includes('secrets'), 'the secrets list is never serialised');
    const shown = JSON.stringify(maskConfig(c));
    assert.ok(!shown.includes(token));
    assert.ok(!shown.includes(pgPassword));
    assert.match(shown, /postgres:\/\/app:\*+@db\.internal/);
    // A wrongly typed secret is described, never echoed.
    const errs = problems(() =>
      parseConfig(
        { auth: { tokens: [{ name: 'ops', token: 1234567890123456, role: 'admin' }] } },
        { env: {} },
      ),
    );
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /auth\.tokens\[0\]\.token: expected a string, got a number \(value hidden\)/);
    assert.equal(scrub(`failed to connect with ${token}`, c.secrets), 'failed to connect with ********');
  });

  test('an unknown store driver is explained', () => {
    const errs = problems(() => parseConfig({ store: { driver: 'mongo' } }, { env: {}, label: 'c' }));
    assert.deepEqual(errs, ['c: store.driver: expected driver to be "sqlite" or "postgres"']);
  });
});
