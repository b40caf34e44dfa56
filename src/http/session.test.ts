import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { tempDir } from '../../test/support/services.js';
import { parseConfig } from '../config/load.js';
import { FakeClock } from '../core/clock.js';
import { openStore, type Store } from '../store/index.js';
import {
  hashPassword,
  maskCsrf,
  parseCookies,
  SESSION_COOKIE,
  SessionManager,
  sameOrigin,
  verifyPassword,
} from './session.js';

const TOKEN = 'ops-token-0123456789abcdef';
let store: Store;
const dir = tempDir();
let hash: string;

before(async () => {
  store = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
  await store.migrate(Date.now());
  hash = await hashPassword('correct horse', { N: 1024 });
});
after(async () => {
  await store.close();
  dir.cleanup();
});

function manager(clock: FakeClock, auth: Record<string, unknown> = {}) {
  const config = parseConfig(
    {
      auth: {
        tokens: [{ name: 'ops', token: TOKEN, role: 'admin' }],
        users: [{ name: 'alice', password_hash: hash, role: 'read' }],
        ...auth,
      },
    },
    { env: {}, dataDir: dir.path },
  );
  return new SessionManager({ config, clock, store });
}

function req(headers: Record<string, string>, method = 'GET', body?: unknown): FastifyRequest {
  return {
    headers: { host: 'mon.local:9464', ...headers },
    method,
    body,
    protocol: 'http',
  } as unknown as FastifyRequest;
}

async function signIn(m: SessionManager, input: Parameters<SessionManager['login']>[0]) {
  const r = await m.login(input);
  assert.ok(r.ok, `sign-in failed: ${JSON.stringify(r)}`);
  return r;
}

describe('passwords', () => {
  test('an scrypt hash verifies its password only', async () => {
    assert.match(hash, /^scrypt\$1024\$8\$1\$/);
    assert.equal(await verifyPassword('correct horse', hash), true);
    assert.equal(await verifyPassword('wrong horse', hash), false);
    assert.equal(
      await verifyPassword('correct horse', 'scrypt$3$8$1$AAAA$AAAA'),
      false,
      'N not a power of two',
    );
    assert.equal(await verifyPassword('x', 'plain'), false);
  });
});

describe('sessions', () => {
  test('a user signs in with a password and the cookie names them with their role', async () => {
    const m = manager(new FakeClock());
    const r = await signIn(m, { name: 'alice', password: 'correct horse', ip: '10.0.0.1' });
    const s = await m.verify(r.cookie);
    assert.deepEqual([s?.name, s?.role, s?.via], ['alice', 'read', 'user']);
    const fromCookie = await m.fromRequest(
      req({ cookie: `other=1; ${SESSION_COOKIE}=${encodeURIComponent(r.cookie)}` }),
    );
    assert.equal(fromCookie?.sid, s?.sid);
  });

  test('an API token signs in as its name and role', async () => {
    const m = manager(new FakeClock());
    const r = await signIn(m, { token: TOKEN, ip: '10.0.0.1' });
    assert.deepEqual([r.session.name, r.session.role, r.session.via], ['ops', 'admin', 'token']);
    assert.deepEqual(await m.login({ token: 'not-the-token-at-all', ip: '10.0.0.1' }), {
      ok: false,
      reason: 'invalid',
    });
  });

  test('a push token cannot sign in; a user cannot be given the push role', async () => {
    const PUSH = 'push-token-0123456789abcdef';
    const m = manager(new FakeClock(), { tokens: [{ name: 'agents', token: PUSH, role: 'push' }] });
    assert.deepEqual(await m.login({ token: PUSH, ip: '10.0.0.2' }), { ok: false, reason: 'invalid' });
    assert.throws(
      () => manager(new FakeClock(), { users: [{ name: 'bob', password_hash: hash, role: 'push' }] }),
      /auth\.users\[0\]\.role: expected one of "admin", "read", got "push"/,
    );
  });

  test('a tampered, expired or revoked cookie is no session; revocation survives a restart', async () => {
    const clock = new FakeClock();
    const m = manager(clock);
    const r = await signIn(m, { name: 'alice', password: 'correct horse', ip: '10.0.0.1' });
    const [body, mac] = r.cookie.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), sub: 'ops', via: 'token' }),
    ).toString('base64url');
    assert.equal(await m.verify(`${forged}.${mac}`), null);
    assert.equal(await m.verify(`${body}.AAAA`), null);
    await clock.advance(12 * 3_600_000);
    assert.equal(await m.verify(r.cookie), null, 'expired after session_ttl');
    const r2 = await signIn(m, { name: 'alice', password: 'correct horse', ip: '10.0.0.1' });
    await m.revoke(r2.session);
    assert.equal(await m.verify(r2.cookie), null);
    const restarted = manager(clock);
    assert.equal(await restarted.verify(r2.cookie), null, 'revoked in the store, not only in memory');
    const r3 = await signIn(restarted, { name: 'alice', password: 'correct horse', ip: '10.0.0.1' });
    assert.ok(await manager(clock).verify(r3.cookie), 'the signing key is kept in the store across restarts');
  });

  test('changing a password or removing a user ends their sessions; a role change applies at once', async () => {
    const clock = new FakeClock();
    const r = await signIn(manager(clock), { name: 'alice', password: 'correct horse', ip: '10.0.0.1' });
    const newHash = await hashPassword('battery staple', { N: 1024 });
    assert.equal(
      await manager(clock, { users: [{ name: 'alice', password_hash: newHash }] }).verify(r.cookie),
      null,
    );
    assert.equal(await manager(clock, { users: [] }).verify(r.cookie), null);
    const promoted = await manager(clock, {
      users: [{ name: 'alice', password_hash: hash, role: 'admin' }],
    }).verify(r.cookie);
    assert.equal(promoted?.role, 'admin');
  });

  test('failed sign-ins are limited per address and name, then allowed again after the window', async () => {
    const clock = new FakeClock();
    const m = manager(clock, { login_max_failures: 3, login_window: '10m' });
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await m.login({ name: 'alice', password: 'nope', ip: '10.0.0.9' }), {
        ok: false,
        reason: 'invalid',
      });
    }
    const limited = await m.login({ name: 'alice', password: 'correct horse', ip: '10.0.0.9' });
    assert.equal(limited.ok, false);
    assert.equal(!limited.ok && limited.reason, 'limited');
    assert.ok(
      !limited.ok &&
        limited.reason === 'limited' &&
        limited.retryAfterMs > 0 &&
        limited.retryAfterMs <= 600_000,
    );
    assert.equal(
      (await m.login({ name: 'alice', password: 'correct horse', ip: '10.0.0.10' })).ok,
      true,
      'another address',
    );
    await clock.advance(10 * 60_000);
    assert.equal((await m.login({ name: 'alice', password: 'correct horse', ip: '10.0.0.9' })).ok, true);
  });

  test('the CSRF check wants the session token and this origin', async () => {
    const m = manager(new FakeClock());
    const { session } = await signIn(m, { token: TOKEN, ip: '10.0.0.1' });
    assert.equal(m.checkCsrf(req({ 'x-csrf-token': session.csrf }, 'POST'), session), true);
    assert.equal(m.checkCsrf(req({}, 'POST', { _csrf: session.csrf }), session), true);
    const [m1, m2] = [maskCsrf(session.csrf), maskCsrf(session.csrf)];
    assert.notEqual(m1, m2, 'masked afresh for each page');
    assert.ok(!m1.includes(session.csrf));
    assert.equal(m.checkCsrf(req({}, 'POST', { _csrf: m1 }), session), true);
    assert.equal(m.checkCsrf(req({ 'x-csrf-token': m2 }, 'POST'), session), true);
    assert.equal(m.checkCsrf(req({}, 'POST'), session), false, 'no token');
    assert.equal(
      m.checkCsrf(req({ 'x-csrf-token': 'x'.repeat(session.csrf.length) }, 'POST'), session),
      false,
    );
    const other = (await signIn(m, { token: TOKEN, ip: '10.0.0.1' })).session;
    assert.equal(
      m.checkCsrf(req({ 'x-csrf-token': other.csrf }, 'POST'), session),
      false,
      "another session's token",
    );
    assert.equal(
      m.checkCsrf(req({ 'x-csrf-token': session.csrf, origin: 'https://evil.example' }, 'POST'), session),
      false,
    );
    assert.equal(
      m.checkCsrf(req({ 'x-csrf-token': session.csrf, 'sec-fetch-site': 'cross-site' }, 'POST'), session),
      false,
    );
    assert.equal(
      m.checkCsrf(
        req(
          { 'x-csrf-token': session.csrf, origin: 'http://mon.local:9464', 'sec-fetch-site': 'same-origin' },
          'POST',
        ),
        session,
      ),
      true,
    );
  });

  test('same origin: Sec-Fetch-Site, Origin host, or the configured public URL', () => {
    assert.equal(sameOrigin(req({ 'sec-fetch-site': 'same-site' })), false);
    assert.equal(sameOrigin(req({ origin: 'null' })), false);
    assert.equal(sameOrigin(req({ origin: 'http://mon.local:9464' })), true);
    assert.equal(sameOrigin(req({ origin: 'https://mon.example' })), false);
    assert.equal(sameOrigin(req({ origin: 'https://mon.example' }), 'https://mon.example/ops'), true);
    assert.equal(sameOrigin(req({})), true, 'no header to judge by: the CSRF token decides');
  });

  test('cookies are HttpOnly, SameSite=Strict, scoped to the prefix, Secure over https or when configured', async () => {
    const m = manager(new FakeClock());
    const c = m.sessionCookie(req({}), 'v');
    assert.match(c, /^prodmon_session=v; Path=\/production\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const https = { ...req({}), protocol: 'https' } as unknown as FastifyRequest;
    assert.match(m.sessionCookie(https, 'v'), /; Secure$/);
    assert.match(
      manager(new FakeClock(), { secure_cookies: true }).sessionCookie(req({}), null),
      /Max-Age=0; Secure$/,
    );
    assert.deepEqual(parseCookies('a=1; b=%3D2; a=3'), { a: '1', b: '=2' });
  });
});
