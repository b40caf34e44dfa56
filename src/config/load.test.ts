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

  test('a duration or size without a unit is an error naming the field and suggesting the unit', () => {
    const p = file(
      'bare.yaml',
      [
        'health:',
        '  refresh_interval: 10',
        '  checks:',
        '    - { name: api, kind: http, url: "http://127.0.0.1:1/", max_body: 1048576, timeout: "2000" }',
        'metrics: { flush_interval: 60000 }',
        'logs: { max_size: 1000 }',
        '',
      ].join('\n'),
    );
    assert.deepEqual(problems(() => loadConfig({ configPath: p, env: {} })).sort(), [
      `${p}: health.checks[0].max_body: 1048576 has no unit; write "1MB" (or "1048576B")`,
      `${p}: health.checks[0].timeout: 2000 has no unit; write "2000ms" (that is 2s) or "2000s"`,
      `${p}: health.refresh_interval: 10 has no unit; write "10s" (or "10ms")`,
      `${p}: logs.max_size: 1000 has no unit; write "1000B" (or "1000KB", "1000MB")`,
      `${p}: metrics.flush_interval: 60000 has no unit; write "60000ms" (that is 1m) or "60000s"`,
    ]);
    // The embedded form and a whole-value ${VAR} (which reads as a number) follow the same rule.
    assert.deepEqual(
      problems(() =>
        parseConfig({ health: { refresh_interval: 10 } }, { env: {}, label: 'createMonitor config' }),
      ),
      ['createMonitor config: health.refresh_interval: 10 has no unit; write "10s" (or "10ms")'],
    );
    assert.deepEqual(
      problems(() =>
        parseConfig({ health: { refresh_interval: '${EVERY}' } }, { env: { EVERY: '10' }, label: 'c' }),
      ),
      ['c: health.refresh_interval: 10 has no unit; write "10s" (or "10ms")'],
    );
    // With a unit, and 0 (the same in every unit), they are accepted.
    const c = parseConfig(
      {
        health: {
          refresh_interval: '10s',
          drain_delay: 0,
          checks: [{ name: 'api', kind: 'http', url: 'http://127.0.0.1:1/', max_body: '1MB' }],
        },
        logs: { max_size: '512KB' },
      },
      { env: { EVERY: '10s' } },
    );
    assert.equal(c.health.refresh_interval, 10_000);
    assert.equal(c.health.drain_delay, 0);
    assert.equal(c.health.checks[0]!.max_body, 1024 * 1024);
    assert.equal(c.logs.max_size, 512 * 1024);
  });

  test('a YAML syntax error shows the line and a caret under the column', () => {
    const dup = file('dup.yaml', 'server:\n  port: 9464\n  port: 9465\n');
    assert.deepEqual(
      problems(() => loadConfig({ configPath: dup, env: {} })),
      [[`${dup}:3:3: invalid YAML: Map keys must be unique`, '  3 |   port: 9465', '    |   ^'].join('\n')],
    );
    const indent = file('indent.yaml', 'alerting:\n  cooldown: 5m\n    window: 5m\n');
    assert.deepEqual(
      problems(() => loadConfig({ configPath: indent, env: {} })),
      [
        [
          `${indent}:2:13: invalid YAML: Nested mappings are not allowed in compact mappings`,
          '  2 |   cooldown: 5m',
          '    |             ^',
        ].join('\n'),
      ],
    );
    // Reported past the last line (an unclosed bracket): the caret follows the last written character.
    const unclosed = file('unclosed.yaml', 'health:\n  checks: [\n    { name: a, kind: tcp\n\n');
    const [msg] = problems(() => loadConfig({ configPath: unclosed, env: {} }));
    assert.match(msg!, new RegExp(`^${unclosed}:3:25: invalid YAML: .* \\(at the end of the file\\)\n`));
    assert.deepEqual(msg!.split('\n').slice(1), [
      '  3 |     { name: a, kind: tcp',
      '    |                         ^',
    ]);
  });

  test('config numbers have bounds: out of bounds is an error naming the field and the bound', () => {
    const errs = problems(() =>
      parseConfig(
        {
          health: {
            refresh_interval: '500ms',
            checks: [{ name: 'x', kind: 'http', url: 'http://127.0.0.1:1/', timeout: '10m' }],
          },
          metrics: { max_series: 5, max_buffered_rows: 2_000_000 },
          alerting: {
            maintenance: [{ name: 'forever', start: '2026-01-01T00:00:00Z', duration: '91d' }],
            repeat_interval: '0s',
            coalesce_window: '5ms',
          },
          store: { driver: 'postgres', url: 'postgres://127.0.0.1/x', pool_size: 1000 },
          notifications: { outbox: { min_backoff: '10m', max_backoff: '1m' } },
        },
        { env: {}, label: 'c' },
      ),
    );
    assert.deepEqual(errs.sort(), [
      'c: alerting.coalesce_window: must be at least 10ms, got "5ms"',
      'c: alerting.maintenance[0].duration: must be at most 90d, got "91d"',
      'c: alerting.repeat_interval: must be at least 1m, got "0s"',
      'c: health.checks[0].timeout: must be at most 5m, got "10m"',
      'c: health.refresh_interval: must be at least 1s, got "500ms"',
      'c: metrics.max_buffered_rows: must be at most 1000000, got 2000000',
      'c: metrics.max_series: must be at least 10, got 5',
      'c: notifications.outbox.min_backoff: min_backoff must be at most max_backoff',
      'c: store.pool_size: must be at most 100, got 1000',
    ]);
    assert.deepEqual(
      problems(() => parseConfig({ alerting: { coalesce_window: '11s' } }, { env: {}, label: 'c' })),
      ['c: alerting.coalesce_window: must be at most 10s, got "11s"'],
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

  test('query values and headers off the allow-list are secrets too; short ones are masked but not scrubbed from text', () => {
    const c = parseConfig(
      {
        health: {
          checks: [
            {
              name: 'api',
              kind: 'http',
              url: 'http://127.0.0.1:1/s?apikey=QueryKey-123456&format=json',
              headers: { 'x-custom-auth': 'HeaderKey-abcdef', 'x-env': 'prod', accept: 'application/json' },
            },
          ],
        },
      },
      { env: {} },
    );
    assert.ok(c.secrets.includes('QueryKey-123456'));
    assert.ok(c.secrets.includes('HeaderKey-abcdef'));
    assert.equal(
      scrub(
        'GET failed: apikey=QueryKey-123456 sent HeaderKey-abcdef as application/json to prod',
        c.secrets,
      ),
      'GET failed: apikey=******** sent ******** as application/json to prod',
    );
    const shown = maskConfig(c).health.checks[0] as unknown as {
      url: string;
      headers: Record<string, string>;
    };
    assert.equal(shown.url, 'http://127.0.0.1:1/s?apikey=********&format=********');
    assert.deepEqual(shown.headers, {
      'x-custom-auth': '********',
      'x-env': '********',
      accept: 'application/json',
    });
  });

  test('an unknown store driver is explained', () => {
    const errs = problems(() => parseConfig({ store: { driver: 'mongo' } }, { env: {}, label: 'c' }));
    assert.deepEqual(errs, ['c: store.driver: expected driver to be "sqlite" or "postgres"']);
  });
});
