/**
 * The sign-in limit under concurrency, over real HTTP: attempts are counted when they start, so a burst
 * sent at once is limited like one sent in turn, and the right password after the limit does not sign in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { LoginLimiter } from '../http/login-limit.js';
import { type MonitorFixture, PASSWORD, startMonitor } from './test-support/fixture.js';

const D = '/production/dashboard';
const MAX = 5;

/** A browser's sign-in form: its double-submit cookie and token, then form posts with them. */
async function signInForm(base: string) {
  const page = await fetch(`${base}${D}/login`);
  const cookie = /prodmon_login=([\w-]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1];
  await page.arrayBuffer();
  assert.ok(cookie, 'the sign-in page sets its cookie');
  return async (fields: Record<string, string>) => {
    const res = await fetch(`${base}${D}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `prodmon_login=${cookie}`,
        origin: base,
      },
      body: new URLSearchParams({ _csrf: cookie, next: `${D}/`, ...fields }).toString(),
    });
    await res.arrayBuffer();
    return { status: res.status, session: /prodmon_session=[^;]+/.test(res.headers.get('set-cookie') ?? '') };
  };
}

const tally = (rs: { status: number }[]) => {
  const out: Record<number, number> = {};
  for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
};

describe('sign-in limit under concurrency', () => {
  let f: MonitorFixture;
  before(async () => {
    // The real scrypt cost (N = 16384), so attempts overlap while their hashes are computed.
    f = await startMonitor({
      hashN: 16_384,
      config: { auth: { login_max_failures: MAX, login_window: '15m' } },
    });
  });
  after(async () => {
    await f.close();
  });

  test('300 wrong sign-ins at once: only the limit reach the password check, the rest get 429; the right password after them does not sign in', async () => {
    const post = await signInForm(f.url);
    const results = await Promise.all(
      Array.from({ length: 300 }, () => post({ name: 'reader', password: 'wrong guess' })),
    );
    assert.deepEqual(tally(results), { 401: MAX, 429: 300 - MAX });
    const right = await post({ name: 'reader', password: PASSWORD });
    assert.equal(right.status, 429);
    assert.equal(right.session, false);
  });

  test('200 at once with the right password at position 40: it is refused (429) and no session is issued', async () => {
    const post = await signInForm(f.url);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        post({ name: 'admin', password: i === 40 ? PASSWORD : 'wrong guess' }),
      ),
    );
    assert.equal(results[40]!.status, 429);
    assert.equal(
      results.some((r) => r.session),
      false,
    );
    // The address's own limit (4 x MAX) is shared by every name: what the first burst left.
    assert.equal(results.filter((r) => r.status === 401).length, MAX);
  });
});

describe('LoginLimiter', () => {
  test('counts an attempt when it starts; a success gives it back; the window ends the limit', () => {
    const clock = new FakeClock(1_000_000);
    const l = new LoginLimiter({ clock, maxFailures: 3, windowMs: 60_000 });
    assert.equal(l.attempt('10.0.0.1', 'alice'), 0);
    assert.equal(l.attempt('10.0.0.1', 'alice'), 0);
    l.succeed('10.0.0.1', 'alice');
    for (let i = 0; i < 3; i++) assert.equal(l.attempt('10.0.0.1', 'alice'), 0, `attempt ${i}`);
    assert.equal(l.attempt('10.0.0.1', 'alice'), 60_000, 'the fourth attempt in the window is refused');
    assert.equal(l.attempt('10.0.0.2', 'alice'), 0, 'another address is not limited');
    clock.set(1_060_000);
    assert.equal(l.attempt('10.0.0.1', 'alice'), 0, 'a new window');
  });

  test('one address is limited to four times the limit over every name', () => {
    const l = new LoginLimiter({ clock: new FakeClock(0), maxFailures: 2, windowMs: 60_000 });
    for (const name of ['a', 'b', 'c', 'd']) {
      assert.equal(l.attempt('10.0.0.9', name), 0);
      assert.equal(l.attempt('10.0.0.9', name), 0);
    }
    assert.ok(l.attempt('10.0.0.9', 'e') > 0);
  });
});
