/** `prodmon start` as a user runs it: zero config, bad config, port in use, signals, PostgreSQL. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { finished, killIfRunning, runCli, spawnCli, waitForOutput } from '../support/cli.js';
import { pgSchema, tempDir } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const dirs: { cleanup: () => void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});
function dir() {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}

const LISTENING = /listening on (http:\/\/[\d.]+:\d+)/;

describe('prodmon start', () => {
  test('with no config it serves GET /health/ healthy, and SIGTERM stops it with exit 0 and an intact database', async (t) => {
    const cwd = dir();
    const t0 = performance.now();
    const child = spawnCli(['start', '--port', '0'], { cwd });
    t.after(() => killIfRunning(child));
    const result = finished(child);
    const [, url] = await waitForOutput(child, LISTENING, 60_000);
    const res = await fetch(`${url}/health/`);
    const elapsed = performance.now() - t0;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(((await res.json()) as { status: string }).status, 'healthy');
    // Start-up takes well under 5 s on an idle machine; bounded at 5x that, as the suite may run loaded.
    assert.ok(elapsed < 25_000, `answered after ${Math.round(elapsed)} ms`);
    child.kill('SIGTERM');
    const r = await result;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dashboard: http:\/\/.*\/production\/dashboard\//);
    const db = new BetterSqlite3(join(cwd, '.prodmon', 'prodmon.db'), { readonly: true });
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });

  test('a bad config exits 2 naming the field path; an unknown key gets a suggestion', async () => {
    const cwd = dir();
    writeFileSync(
      join(cwd, 'bad.yaml'),
      'alerting:\n  thresholds:\n    cpu_usage: { warning: high }\n  cooldwn: 5m\n',
    );
    const r = await runCli(['start', '--config', 'bad.yaml'], { cwd });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /bad\.yaml: alerting\.thresholds\.cpu_usage\.warning: expected a number, got "high"/,
    );
    assert.match(r.stderr, /bad\.yaml: alerting: unknown key "cooldwn" \(did you mean "cooldown"\?\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  test('a port in use exits 2 with one clear line and no stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['start', '--port', String(port)], { cwd: dir() });
      assert.equal(r.code, 2);
      assert.equal(
        r.stderr.trim(),
        `prodmon: port 127.0.0.1:${port} is already in use; choose another with --port or server.port`,
      );
    } finally {
      blocker.close();
    }
  });

  test('an unusable data directory exits 2', async () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'a-file'), '');
    const r = await runCli(['start', '--data-dir', join(cwd, 'a-file', 'data')], { cwd });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^prodmon: data directory .*a-file\/data is not writable \(ENOTDIR\)/);
  });

  test('an unreachable PostgreSQL exits 2 without showing the password', async () => {
    const cwd = dir();
    writeFileSync(
      join(cwd, 'prodmon.yaml'),
      'store: { driver: postgres, url: "postgres://app:s3cret-pass@127.0.0.1:1/shop" }\n',
    );
    const r = await runCli(['start'], { cwd });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^prodmon: cannot reach PostgreSQL at 127\.0\.0\.1:1\/shop/);
    assert.doesNotMatch(r.stderr + r.stdout, /s3cret-pass/);
  });

  test('SIGTERM during start-up exits 0 and leaves an intact database', async (t) => {
    const cwd = dir();
    const child = spawnCli(['start', '--port', '0'], { cwd });
    t.after(() => killIfRunning(child));
    const result = finished(child);
    // Stop as soon as the process says it is starting: before the store is opened and migrated.
    await waitForOutput(child, /starting \(data dir/, 30_000);
    child.kill('SIGTERM');
    const r = await result;
    assert.equal(r.code, 0, r.stderr);
    const db = new BetterSqlite3(join(cwd, '.prodmon', 'prodmon.db'), { readonly: true });
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });

  test('SIGTERM under load exits 0; in-flight requests are answered', async (t) => {
    const cwd = dir();
    const child = spawnCli(['start', '--port', '0'], { cwd });
    t.after(() => killIfRunning(child));
    const result = finished(child);
    const [, url] = await waitForOutput(child, LISTENING, 30_000);
    let stop = false;
    let answered = 0;
    const workers = Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 2000 && !stop; i++) {
        try {
          const res = await fetch(`${url}/health/`);
          await res.arrayBuffer();
          answered++;
        } catch {
          return; // the server has stopped accepting
        }
      }
    });
    // SIGTERM while the requests keep coming (some answered already).
    await waitFor(() => answered >= 10, {
      timeout: 30_000,
      what: () => `10 answers before SIGTERM (${answered})`,
    });
    child.kill('SIGTERM');
    const r = await result;
    stop = true;
    await Promise.all(workers);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(answered > 0);
    const db = new BetterSqlite3(join(cwd, '.prodmon', 'prodmon.db'), { readonly: true });
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });

  test('two processes migrating one empty PostgreSQL schema at the same moment both start', async (t) => {
    const s = pgSchema();
    try {
      const cwd = dir();
      writeFileSync(
        join(cwd, 'prodmon.yaml'),
        `store: { driver: postgres, url: "${s.url}", schema: ${s.schema} }\nlogs: { stdout: false }\n`,
      );
      const children = ['a', 'b'].map((name) =>
        spawnCli(['start', '--port', '0', '--data-dir', join(cwd, name)], { cwd }),
      );
      t.after(() => children.forEach(killIfRunning));
      const results = children.map((c) => finished(c));
      const urls = await Promise.all(children.map((c) => waitForOutput(c, LISTENING, 30_000)));
      for (const [, url] of urls) assert.equal((await fetch(`${url}/health/`)).status, 200);
      for (const c of children) c.kill('SIGTERM');
      for (const r of await Promise.all(results)) assert.equal(r.code, 0, r.stderr);
    } finally {
      await s.drop();
    }
  });
});
