/**
 * The first `prodmon start` with no configuration ends in a dashboard that can be opened: the real binary
 * in a temporary directory prints a sign-in token beside the dashboard URL, and Debian's Chromium signs in
 * with it. The token is kept in the data directory (mode 0600), never in a log, and printed only once.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../src/dashboard/test-support/browser.js';
import { finished, spawnCli, waitForOutput } from '../support/cli.js';
import { tempDir } from '../support/services.js';

const dir = tempDir();
const children: ChildProcess[] = [];
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  dir.cleanup();
});

/** Every file under `root`, recursively. */
function files(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(root, e.name)) : [join(root, e.name)],
  );
}

/** `prodmon start --port 0` in the temporary directory; resolves with what it printed once it listens. */
async function start() {
  const child = spawnCli(['start', '--port', '0'], { cwd: dir.path });
  children.push(child);
  const result = finished(child);
  const [, dashboard] = await waitForOutput(child, /dashboard: (http:\S+)\n[\s\S]*token/, 30_000);
  return { child, result, dashboard: dashboard! };
}

describe('first run', () => {
  test('a zero-config prodmon start prints a sign-in token with the dashboard URL; Chromium signs in with it', async () => {
    const first = await start();
    first.child.kill('SIGTERM');
    const r1 = await first.result;
    assert.equal(r1.code, 0, r1.stderr);
    const tokenFile = join(dir.path, '.prodmon', 'first-run-token');
    const [, token] = /^ {2}(\S{32,})$/m.exec(r1.stdout) ?? [];
    assert.ok(token, r1.stdout);
    assert.ok(r1.stdout.includes(tokenFile), 'it says where the token is kept');
    assert.equal(readFileSync(tokenFile, 'utf8').trim(), token);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);

    // A later start says where the token is, without printing it, and the same token still signs in.
    const second = await start();
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(second.dashboard);
    assert.match(page.url(), /\/production\/dashboard\/login/);
    await page.getByLabel('API token', { exact: true }).fill(token);
    await Promise.all([
      page.waitForURL(`${second.dashboard}**`),
      page.getByRole('button', { name: 'Sign in with token' }).click(),
    ]);
    assert.doesNotMatch(page.url(), /\/login/);
    await page.locator('[data-section="checks"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), true);
    second.child.kill('SIGTERM');
    const r2 = await second.result;
    assert.equal(r2.code, 0, r2.stderr);
    assert.ok(!r2.stdout.includes(token), 'a later start does not print the token');
    assert.match(
      r2.stdout,
      new RegExp(`sign in with the admin token in ${tokenFile.replace(/[.]/g, '\\.')}`),
    );

    // Nothing but the token file holds it: no log file, no other file of the data directory.
    const holders = files(join(dir.path, '.prodmon')).filter(
      (f) => f !== tokenFile && readFileSync(f).includes(token),
    );
    assert.deepEqual(holders, []);
    assert.ok(files(join(dir.path, '.prodmon', 'logs')).length > 0, 'the logs were written');
  });

  test('with auth configured, no first-run token is made or printed', async () => {
    const cwd = join(dir.path, 'configured');
    mkdirSync(cwd);
    writeFileSync(
      join(cwd, 'prodmon.yaml'),
      'auth: { tokens: [{ name: ops, token: "configured-token-0123456789", role: admin }] }\n',
    );
    const child = spawnCli(['start', '--port', '0'], { cwd });
    children.push(child);
    const result = finished(child);
    await waitForOutput(child, /dashboard: http/, 30_000);
    child.kill('SIGTERM');
    const r = await result;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /token/);
    assert.equal(existsSync(join(cwd, '.prodmon', 'first-run-token')), false);
  });
});
