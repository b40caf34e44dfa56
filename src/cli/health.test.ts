/** `prodmon health` run as a user runs it: the real CLI in a child process, exit codes, table and JSON. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../test/support/cli.js';
import { freePort } from '../../test/support/health.js';
import { PG_URL, REDIS_URL, tempDir } from '../../test/support/services.js';

const dir = tempDir();
let server: Server;
let openPort = 0;
before(async () => {
  server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  openPort = (server.address() as { port: number }).port;
});
after(() => {
  server.close();
  dir.cleanup();
});

function config(name: string, yaml: string): string {
  const path = join(dir.path, `${name}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

const health = (cfg: string, ...extra: string[]) =>
  runCli(['health', '--config', cfg, '--data-dir', join(dir.path, 'data'), ...extra], {
    cwd: dir.path,
    timeoutMs: 60_000,
  });

describe('prodmon health', () => {
  test('all healthy: exit 0, a table with every check, and JSON with --json', async () => {
    const cfg = config(
      'ok',
      `health:
  checks:
    - { name: db, kind: postgres, url: "${PG_URL.replace('postgres://postgres@', 'postgres://postgres:CliPgSecret1@')}", latency_threshold: 5s }
    - { name: cache, kind: redis, url: "${REDIS_URL}", latency_threshold: 5s }
    - { name: port, kind: tcp, host: 127.0.0.1, port: ${openPort} }
`,
    );
    const table = await health(cfg);
    assert.equal(table.code, 0, table.stdout + table.stderr);
    for (const name of ['db', 'cache', 'port', 'disk', 'memory', 'cpu', 'event_loop', 'self']) {
      assert.match(table.stdout, new RegExp(`│ ${name}\\b`), `row ${name}`);
    }
    assert.match(table.stdout, /│ name\s+│ kind\s+│ status\s+│ time\s+│ detail/);
    assert.match(table.stdout, /overall: healthy\n$/);
    assert.doesNotMatch(table.stdout + table.stderr, /CliPgSecret1/);

    const json = await health(cfg, '--json');
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as {
      status: string;
      checks: { name: string; status: string; details: Record<string, unknown> }[];
    };
    assert.equal(out.status, 'healthy');
    const db = out.checks.find((c) => c.name === 'db')!;
    assert.equal(db.status, 'healthy');
    assert.match(String(db.details.version), /^\d+/);
    assert.doesNotMatch(json.stdout, /CliPgSecret1/);
  });

  test('a failing critical check: exit 1 and the error in the table', async () => {
    const port = await freePort();
    const cfg = config(
      'down',
      `health:\n  builtin_checks: false\n  checks:\n    - { name: api, kind: tcp, host: 127.0.0.1, port: ${port} }\n`,
    );
    const r = await health(cfg);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /│ api\s+│ tcp\s+│ unhealthy │/);
    assert.match(r.stdout, /ECONNREFUSED/);
    assert.match(r.stdout, /overall: unhealthy/);
    const strict = await health(cfg, '--fail-on', 'unhealthy');
    assert.equal(strict.code, 1);
  });

  test('a failing non-critical check is degraded: exit 1 by default, 0 with --fail-on unhealthy', async () => {
    const port = await freePort();
    const cfg = config(
      'degraded',
      `health:\n  builtin_checks: false\n  checks:\n    - { name: extra, kind: tcp, host: 127.0.0.1, port: ${port}, critical: false }\n    - { name: port, kind: tcp, host: 127.0.0.1, port: ${openPort} }\n`,
    );
    const r = await health(cfg, '--json');
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as { status: string }).status, 'degraded');
    assert.equal((await health(cfg, '--fail-on', 'unhealthy')).code, 0);
  });

  test('a bad config exits 2 naming the field; a bad --fail-on is a usage error', async () => {
    const cfg = config('bad', 'health:\n  checks:\n    - { name: x, kind: htp, url: "http://a" }\n');
    const r = await health(cfg);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /health\.checks\[0\]\.kind: unknown check kind "htp" \(did you mean "http"\?\)/);
    const ok = config('ok2', 'health:\n  builtin_checks: false\n');
    assert.equal((await health(ok, '--fail-on', 'sometimes')).code, 2);
  });
});
