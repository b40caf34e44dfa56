/**
 * `prodmon verify`'s loop on a clock the test drives (FakeClock), against a real embedded monitor over
 * real HTTP: the default 2 s polls over the default 2 min window, the default 5 min timeout for an
 * unreachable prodmon, a gap in the window that heals within the timeout and one that does not; and
 * where it finds prodmon and its token without `--url`. The command as a user runs it:
 * test/acceptance/verify.test.ts.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gateService, READ_TOKEN } from '../../test/support/gate.js';
import { tempDir } from '../../test/support/services.js';
import { waitFor } from '../../test/support/wait.js';
import { parseConfig } from '../config/load.js';
import { FakeClock } from '../core/clock.js';
import type { ProdmonError } from '../core/errors.js';
import {
  criticalHits,
  durationOption,
  healthProblem,
  resolveTarget,
  runVerify,
  type VerifyResult,
  type VerifySettings,
  type VerifyTarget,
} from './verify.js';

const DEFAULTS: VerifySettings = { forMs: 120_000, timeoutMs: 300_000, intervalMs: 2000, failOn: 'degraded' };

/**
 * Runs the gate on `clock`, advancing it by the poll interval each time the loop sleeps on it;
 * `tick(next)` is called before each step with the time (from the start) of the poll that step wakes,
 * to set the state that poll finds.
 */
async function drive(
  clock: FakeClock,
  target: VerifyTarget,
  settings: VerifySettings,
  tick: (elapsed: number) => void = () => {},
): Promise<{ result: VerifyResult; lines: string[]; elapsed: number }> {
  const t0 = clock.now();
  const lines: string[] = [];
  let done = false;
  const run = runVerify(target, settings, { clock, progress: (l) => lines.push(l) }).finally(() => {
    done = true;
  });
  run.catch(() => {});
  while (!done) {
    await waitFor(() => done || clock.pending > 0, { timeout: 30_000, what: 'verify to sleep on the clock' });
    if (done) break;
    tick(clock.now() - t0 + settings.intervalMs);
    await clock.advance(settings.intervalMs);
  }
  return { result: await run, lines, elapsed: clock.now() - t0 };
}

describe('prodmon verify on a driven clock', () => {
  let svc: Awaited<ReturnType<typeof gateService>>;
  let target: VerifyTarget;
  before(async () => {
    svc = await gateService();
    target = { url: svc.url, urlFrom: '--url', token: READ_TOKEN, tokenFrom: '--token' };
  });
  after(() => svc?.close());

  test('healthy: the window is 2 min of polls every 2 s from the first healthy answer, a line every 30 s', async () => {
    svc.down = false;
    const clock = new FakeClock(Date.now());
    const { result, lines, elapsed } = await drive(clock, target, DEFAULTS);
    assert.equal(result.result, 'passed', result.reason);
    assert.equal(result.exitCode, 0);
    assert.equal(elapsed, 120_000);
    // One poll that finds it healthy, then one at 0, 2, 4 ... 120 s of the window.
    assert.equal(result.polls, 1 + 61);
    assert.deepEqual(lines.slice(1), [
      'waiting up to 5m (--timeout) for the health to be healthy; polling every 2s',
      'healthy after 0ms; watching the health and critical alerts for 2m',
      'still healthy, no critical alert; 1m 30s left',
      'still healthy, no critical alert; 1m left',
      'still healthy, no critical alert; 30s left',
    ]);
    assert.match(lines[0]!, new RegExp(`^prodmon verify: ${svc.url} \\(from --url; token from --token\\)$`));
    assert.match(result.reason, /was healthy for 2m \(from \S+ to \S+\) with no critical alert firing$/);
    assert.deepEqual(result.unreachable, []);
  });

  test('unreachable from the start: given up after the default 5 min timeout, with its own message', async () => {
    svc.down = true;
    try {
      const clock = new FakeClock(Date.now());
      const t0 = clock.now();
      const { result, lines, elapsed } = await drive(clock, target, DEFAULTS);
      assert.equal(result.exitCode, 1);
      assert.equal(elapsed, 300_000);
      assert.equal(result.polls, 151); // at 0, 2, ... 300 s
      assert.equal(result.failure?.kind, 'unreachable');
      assert.match(
        result.reason,
        new RegExp(
          `^cannot reach prodmon at ${svc.url} \\(from --url\\) while waiting for it to be healthy: .+; no answer for 5m, given up after 5m \\(--timeout\\)\\. The deployment could not be verified: counted as a failure$`,
        ),
      );
      assert.deepEqual(
        result.unreachable.map((u) => [u.from, u.to]),
        [[new Date(t0).toISOString(), null]],
      );
      // Said once, not at every poll.
      assert.equal(lines.filter((l) => l.startsWith('cannot reach prodmon')).length, 1);
    } finally {
      svc.down = false;
    }
  });

  test('a gap in the window that heals within --timeout passes, and is reported', async () => {
    const clock = new FakeClock(Date.now());
    const t0 = clock.now();
    const { result, lines } = await drive(clock, target, DEFAULTS, (elapsed) => {
      svc.down = elapsed >= 10_000 && elapsed < 40_000;
    });
    assert.equal(result.result, 'passed', result.reason);
    assert.deepEqual(
      result.unreachable.map((u) => [u.from, u.to]),
      [[new Date(t0 + 10_000).toISOString(), new Date(t0 + 40_000).toISOString()]],
    );
    assert.ok(lines.includes('prodmon answers again, after 30s without an answer'), lines.join('\n'));
    assert.match(result.reason, /prodmon did not answer 1 time\(s\) in between/);
  });

  test('a gap in the window longer than --timeout fails, saying so', async () => {
    const clock = new FakeClock(Date.now());
    try {
      const { result, elapsed } = await drive(clock, target, { ...DEFAULTS, timeoutMs: 30_000 }, (e) => {
        svc.down = e >= 10_000;
      });
      assert.equal(result.exitCode, 1);
      assert.equal(result.failure?.kind, 'unreachable');
      assert.equal(elapsed, 40_000);
      assert.match(
        result.reason,
        /during the window: .+; no answer for 30s, given up after 30s \(--timeout\)/,
      );
    } finally {
      svc.down = false;
    }
  });

  test('health answering while the alerts API does not is no answer either, said once', async () => {
    const clock = new FakeClock(Date.now());
    try {
      const { result, lines, elapsed } = await drive(
        clock,
        target,
        { ...DEFAULTS, timeoutMs: 30_000 },
        (e) => {
          svc.alertsDown = e >= 10_000;
        },
      );
      assert.equal(result.failure?.kind, 'unreachable');
      assert.equal(elapsed, 40_000);
      assert.match(
        result.reason,
        /during the window: HTTP 503 for \/production\/alerts\/\?severity=critical&status=all&since=\d+&limit=500 \(upstream unavailable\); no answer for 30s/,
      );
      assert.equal(lines.filter((l) => l.startsWith('cannot reach prodmon')).length, 1, lines.join('\n'));
      assert.equal(lines.filter((l) => l.startsWith('prodmon answers again')).length, 0, lines.join('\n'));
    } finally {
      svc.alertsDown = false;
    }
  });
});

describe('where verify looks without --url', () => {
  const dirs: { cleanup: () => void }[] = [];
  after(() => {
    for (const d of dirs) d.cleanup();
  });
  const config = (doc: Record<string, unknown>) => {
    const d = tempDir();
    dirs.push(d);
    return parseConfig({ logs: { stdout: false }, ...doc }, { env: {}, dataDir: d.path });
  };
  const noConfig = () => {
    throw new Error('the config must not be read');
  };

  test('--url and --token, else PRODMON_URL and PRODMON_TOKEN; the config is not read', () => {
    assert.deepEqual(resolveTarget({ url: 'https://pm.example.com/ops/', token: 'tok' }, {}, noConfig), {
      url: 'https://pm.example.com/ops',
      urlFrom: '--url',
      token: 'tok',
      tokenFrom: '--token',
    });
    assert.deepEqual(
      resolveTarget({}, { PRODMON_URL: 'http://10.0.0.5:9464', PRODMON_TOKEN: ' env-tok ' }, noConfig),
      { url: 'http://10.0.0.5:9464', urlFrom: 'PRODMON_URL', token: 'env-tok', tokenFrom: 'PRODMON_TOKEN' },
    );
    assert.throws(
      () => resolveTarget({}, { PRODMON_URL: 'pm.example.com' }, noConfig),
      (e: ProdmonError) => e.exitCode === 2 && /^PRODMON_URL: expected prodmon's base URL/.test(e.message),
    );
    assert.throws(() => resolveTarget({ url: 'http://u:p@pm.example.com' }, {}, noConfig), {
      message: /^--url: .*no credentials: pass the token with --token/,
    });
    assert.throws(() => resolveTarget({ url: 'http://x', token: ' ' }, {}, noConfig), {
      message: /^--token: empty/,
    });
  });

  test('the config: its listen address (a wildcard one on loopback) and prefix; a read token before an admin one', () => {
    const c = config({
      server: { host: '0.0.0.0', port: 9999, prefix: '/ops' },
      auth: {
        tokens: [
          { name: 'boss', token: 'admin-token-0123456789', role: 'admin' },
          { name: 'viewer', token: 'read-token-0123456789ab', role: 'read' },
        ],
      },
    });
    const t = resolveTarget({}, {}, (withAuth) => {
      assert.equal(withAuth, true);
      return c;
    });
    assert.equal(t.url, 'http://127.0.0.1:9999/ops');
    assert.equal(t.urlFrom, "the config's server.host and server.port");
    assert.match(
      t.hint!,
      /^no prodmon start runs from .+; for any other prodmon pass --url or set PRODMON_URL$/,
    );
    assert.deepEqual(
      [t.token, t.tokenFrom],
      ['read-token-0123456789ab', 'auth.tokens "viewer" of the config'],
    );
    // A token given wins, and the config's auth is then not read.
    const given = resolveTarget({ token: 'mine' }, {}, (withAuth) => {
      assert.equal(withAuth, false);
      return c;
    });
    assert.deepEqual([given.token, given.tokenFrom], ['mine', '--token']);
  });

  test('no auth configured: the first-run token of the data directory; port 0 with nothing running needs --url', () => {
    const c = config({ server: { host: '::' } });
    assert.equal(resolveTarget({}, {}, () => c).tokenFrom, null);
    writeFileSync(join(c.dataDir, 'first-run-token'), 'pm_first-run-token-0123456789abcdefghij\n');
    const t = resolveTarget({}, {}, () => c);
    assert.equal(t.url, 'http://[::1]:9464');
    assert.equal(t.token, 'pm_first-run-token-0123456789abcdefghij');
    assert.match(t.tokenFrom!, /^the first-run token \(.*first-run-token\)$/);
    assert.throws(
      () => resolveTarget({}, {}, () => config({ server: { port: 0 } })),
      (e: ProdmonError) =>
        e.exitCode === 2 && /^--url: no prodmon runs from .* server\.port is 0/.test(e.message),
    );
  });

  test('durations carry a unit and stay within their bounds, naming the option', () => {
    assert.equal(durationOption('for', '0s'), 0);
    assert.equal(durationOption('timeout', '24h'), 86_400_000);
    assert.equal(durationOption('interval', '100ms'), 100);
    const bad = (name: 'for' | 'timeout' | 'interval', v: string, re: RegExp) =>
      assert.throws(
        () => durationOption(name, v),
        (e: ProdmonError) => e.exitCode === 2 && re.test(e.message),
      );
    bad('for', '30', /^--for: 30 has no unit; write "30s"/);
    bad('for', '25h', /^--for: must be at most 24h, got "25h"/);
    bad('timeout', 'soon', /^--timeout: expected a duration/);
    bad('interval', '50ms', /^--interval: must be at least 100ms, got "50ms"/);
    bad('interval', '2m', /^--interval: must be at most 1m/);
  });
});

describe('what fails the gate', () => {
  const check = (name: string, status: 'healthy' | 'degraded' | 'unhealthy', critical = true) => ({
    name,
    status,
    critical,
    error: status === 'healthy' ? null : `${name} is ${status}`,
  });

  test('health: anything but healthy by default; with --fail-on unhealthy, only a critical check down', () => {
    const degraded = {
      status: 'degraded' as const,
      checks: [check('db', 'healthy'), check('cache', 'unhealthy', false)],
    };
    assert.equal(healthProblem(degraded, 'unhealthy'), null);
    assert.deepEqual(healthProblem(degraded, 'degraded'), {
      status: 'degraded',
      checks: [{ name: 'cache', status: 'unhealthy', critical: false, error: 'cache is unhealthy' }],
      text: 'health degraded: check "cache" unhealthy (non-critical): cache is unhealthy',
    });
    const down = {
      status: 'unhealthy' as const,
      checks: [check('db', 'unhealthy'), check('cache', 'unhealthy', false)],
      pending: ['payments'],
      draining: true,
    };
    assert.equal(
      healthProblem(down, 'unhealthy')?.text,
      'health unhealthy: prodmon is draining (shutting down); check "db" unhealthy: db is unhealthy; no result yet from "payments"',
    );
    assert.equal(healthProblem({ status: 'healthy', checks: [check('db', 'healthy')] }, 'degraded'), null);
  });

  test('critical alerts: firing now or resolved inside the window; not before it, not pending, not lower severities', () => {
    const start = Date.UTC(2026, 0, 1, 12);
    const alert = (id: string, o: Record<string, unknown>) => ({
      id,
      rule: 'r',
      severity: 'critical',
      status: 'firing',
      message: `m ${id}`,
      labels: {},
      firingAt: start + 1000,
      resolvedAt: null,
      ...o,
    });
    const hits = criticalHits(
      {
        active: [
          alert('before', { firingAt: start - 60_000, mutedBy: ['silence si_1'] }),
          alert('pending', { status: 'pending', firingAt: null }),
          alert('high', { severity: 'high' }),
        ],
        alerts: [
          alert('before', { firingAt: start - 60_000 }),
          alert('inside', { status: 'resolved', resolvedAt: start + 2000 }),
          alert('overlap', { status: 'resolved', firingAt: start - 5000, resolvedAt: start + 500 }),
          alert('earlier', { status: 'resolved', firingAt: start - 9000, resolvedAt: start - 1 }),
        ],
      },
      start,
    );
    assert.deepEqual(
      hits.map((h) => [h.id, h.alreadyFiring, h.resolvedAt !== null, h.mutedBy]),
      [
        ['before', true, false, ['silence si_1']],
        ['inside', false, true, []],
        ['overlap', true, true, []],
      ],
    );
  });
});
