/** `prodmon config check` run as a user runs it: validation, and the effective config with every secret masked. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse } from 'yaml';
import { runCli } from '../../test/support/cli.js';
import { freePort } from '../../test/support/health.js';
import { tempDir } from '../../test/support/services.js';

const dir = tempDir();
after(() => dir.cleanup());

function config(name: string, yaml: string): string {
  const path = join(dir.path, `${name}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

const SECRETS = {
  apikey: 'QueryApiKey-7f3a9c',
  header: 'CustomAuthHeader-51d2e8',
  bearer: 'BearerInHeader-0b9e44',
  urlPassword: 'UrlPassword-c4d1a0',
  urlUser: 'TokenAsUser-93be7f',
  pgPassword: 'PgPassword-2e6f18',
};

describe('prodmon config check', () => {
  test('masks what health output masks: query-string values, headers off the allow-list, URL credentials', async () => {
    const port = await freePort();
    const cfg = config(
      'secrets',
      `health:
  builtin_checks: false
  checks:
    - name: api
      kind: http
      url: "http://127.0.0.1:${port}/status?apikey=${SECRETS.apikey}&region=eu"
      headers:
        x-custom-auth: ${SECRETS.header}
        Authorization: "Bearer ${SECRETS.bearer}"
        accept: application/json
        user-agent: prodmon-probe
    - name: basic
      kind: http
      url: "http://probe:${SECRETS.urlPassword}@127.0.0.1:${port}/"
    - name: lone
      kind: http
      url: "https://${SECRETS.urlUser}@127.0.0.1:${port}/"
    - { name: db, kind: postgres, url: "postgres://app:${SECRETS.pgPassword}@127.0.0.1:1/shop" }
`,
    );
    const args = ['config', 'check', '--config', cfg, '--data-dir', join(dir.path, 'data')];
    const yaml = await runCli(args, { cwd: dir.path });
    assert.equal(yaml.code, 0, yaml.stderr);
    const json = await runCli([...args, '--json'], { cwd: dir.path });
    assert.equal(json.code, 0, json.stderr);
    for (const out of [yaml.stdout + yaml.stderr, json.stdout + json.stderr])
      for (const [what, secret] of Object.entries(SECRETS))
        assert.ok(!out.includes(secret), `${what} is printed:\n${out}`);

    // What is not secret stays readable: where each check goes, which headers it sends, safe header values.
    const shown = parse(yaml.stdout) as { health: { checks: Record<string, unknown>[] } };
    assert.deepEqual(JSON.parse(json.stdout).health.checks, shown.health.checks);
    const [api, basic, lone, db] = shown.health.checks;
    assert.equal(api!.url, `http://127.0.0.1:${port}/status?apikey=********&region=********`);
    assert.deepEqual(api!.headers, {
      'x-custom-auth': '********',
      Authorization: '********',
      accept: 'application/json',
      'user-agent': 'prodmon-probe',
    });
    assert.equal(basic!.url, `http://probe:********@127.0.0.1:${port}/`);
    assert.equal(lone!.url, `https://********@127.0.0.1:${port}/`);
    assert.equal(db!.url, 'postgres://app:********@127.0.0.1:1/shop');

    // prodmon health runs the same checks (all unreachable) and prints none of the secrets either.
    const health = await runCli(['health', '--config', cfg, '--data-dir', join(dir.path, 'data'), '--json'], {
      cwd: dir.path,
      timeoutMs: 60_000,
    });
    assert.equal(health.code, 1, health.stderr);
    for (const [what, secret] of Object.entries(SECRETS))
      assert.ok(!(health.stdout + health.stderr).includes(secret), `health prints ${what}`);
  });

  test('a YAML syntax error exits 2 with the line and a caret under the column', async () => {
    const cfg = config('syntax', 'server:\n  port: 9464\n  port: 9465\n');
    const r = await runCli(['config', 'check', '--config', cfg], { cwd: dir.path });
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `${cfg}:3:3: invalid YAML: Map keys must be unique\n  3 |   port: 9465\n    |   ^\n`,
    );
  });
});
