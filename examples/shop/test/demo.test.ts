/**
 * `npm run demo` end to end: the demo runs (bounded) with the `errors` fault for 20 s; prodmon's
 * `error_rate` alert fires, the local webhook receiver prints the notification, the alert resolves
 * once the fault is off, and Ctrl-C (SIGINT) stops everything cleanly.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { finished } from '../../../test/support/cli.js';
import { waitFor } from '../../../test/support/wait.js';

const DEMO = fileURLToPath(new URL('../demo.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));

interface AlertView {
  id: string;
  rule: string;
  status: 'pending' | 'firing' | 'resolved';
  severity: string;
  resolution: { kind: string } | null;
}

/** Everything a child printed so far, and a bounded wait for a pattern in it. */
function collect(child: ChildProcess) {
  let text = '';
  child.stdout?.on('data', (d) => {
    text += d;
  });
  child.stderr?.on('data', (d) => {
    text += d;
  });
  return {
    get text() {
      return text;
    },
    waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
      return waitFor(
        () => {
          const m = re.exec(text);
          if (!m && child.exitCode !== null)
            throw new Error(`the demo exited (${child.exitCode}) before ${re}:\n${text}`);
          return m;
        },
        { timeout: timeoutMs, interval: 100, what: () => `${re} in the output:\n${text}` },
      );
    },
  };
}

/** Polls prodmon's alert API until `pick` finds an alert (bounded). */
async function waitForAlert(
  url: string,
  token: string,
  path: string,
  pick: (alerts: AlertView[]) => AlertView | undefined,
  timeoutMs: number,
): Promise<AlertView> {
  let last = '';
  return waitFor(
    async () => {
      const res = await fetch(`${url}${path}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5000),
      });
      last = `${res.status} ${await res.text()}`;
      if (!res.ok) return undefined;
      const body = JSON.parse(last.slice(4)) as { alerts?: AlertView[]; alert?: AlertView };
      return pick(body.alerts ?? (body.alert ? [body.alert] : []));
    },
    {
      timeout: timeoutMs,
      interval: 2000,
      what: () => `such an alert at ${path}; last answer: ${last.slice(0, 500)}`,
    },
  );
}

test('the errors fault fires error_rate, notifies the webhook, resolves after the fault, and Ctrl-C stops the demo', {
  timeout: 300_000,
}, async () => {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      TSX,
      DEMO,
      '--duration',
      '240s',
      '--fault',
      'errors',
      '--fault-for',
      '20s',
      '--status-every',
      '5s',
    ],
    { env: { ...process.env, SHOP_REDIS_URL: 'none', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out = collect(child);
  const done = finished(child);
  try {
    const m = await out.waitFor(
      /alerts API\s+curl -H "Authorization: Bearer (\S+)" (http:\/\/127\.0\.0\.1:\d+)\/production\/alerts\//,
      60_000,
    );
    const [, token, url] = m as unknown as [string, string, string];

    const fired = await waitForAlert(
      url,
      token,
      '/production/alerts/?rule=error_rate',
      (as) => as.find((a) => a.rule === 'error_rate' && a.status === 'firing'),
      90_000,
    );
    assert.ok(['high', 'critical', 'medium'].includes(fired.severity));
    await out.waitFor(/\[webhook\] alert\.firing\s+error_rate/, 30_000);

    const resolved = await waitForAlert(
      url,
      token,
      `/production/alerts/${fired.id}`,
      (as) => as.find((a) => a.status === 'resolved'),
      150_000,
    );
    assert.equal(resolved.resolution?.kind, 'auto');
    await out.waitFor(/\[webhook\] alert\.resolved\s+error_rate/, 30_000);
  } finally {
    child.kill('SIGINT');
  }
  const bound = new AbortController();
  const exit = await Promise.race([done, sleep(30_000, null, { signal: bound.signal }).catch(() => null)]);
  bound.abort(); // no 30 s timer left to keep the test process alive
  if (!exit) child.kill('SIGKILL');
  assert.ok(exit, 'the demo stopped within 30 s of Ctrl-C');
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stdout, /\[fault\] errors ON/);
  assert.match(exit.stdout, /\[fault\] errors off/);
  assert.match(exit.stdout, /done: \d+ requests/);
});
