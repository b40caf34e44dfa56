import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import express from 'express';
import { DashClient } from '../../dashboard/test-support/client.js';
import {
  insertAlert,
  type MonitorFixture,
  PASSWORD,
  startMonitor,
  withoutEvaluation,
} from '../../dashboard/test-support/fixture.js';

let f: MonitorFixture;
const D = '/production/dashboard';

before(async () => {
  f = await startMonitor({ config: { auth: { login_max_failures: 3 } } });
});
after(async () => {
  await f.close();
});

const admin = async () => {
  const c = new DashClient(f.monitor.http);
  const r = await c.signIn({ name: 'admin', password: PASSWORD });
  assert.equal(r.statusCode, 303);
  return c;
};

/** A raw GET whose path is sent exactly as written (no URL normalisation). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const u = new URL(f.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard access', () => {
  test('a signed-out visit goes to the sign-in page and comes back after it', async () => {
    const c = new DashClient(f.monitor.http);
    const r = await c.request('GET', `${D}/alerts?status=firing`);
    assert.equal(r.statusCode, 303);
    assert.equal(r.headers.location, `${D}/login?next=${encodeURIComponent(`${D}/alerts?status=firing`)}`);
    const login = await c.request('GET', r.headers.location!);
    assert.equal(login.statusCode, 200);
    assert.match(
      String(login.headers['set-cookie']),
      /prodmon_login=[\w-]+; Path=\/production\/; HttpOnly; SameSite=Strict/,
    );
    const signed = await c.signIn({ name: 'reader', password: PASSWORD }, `${D}/alerts?status=firing`);
    assert.equal(signed.headers.location, `${D}/alerts?status=firing`);
    assert.match(
      String(signed.headers['set-cookie']),
      /prodmon_session=[\w.-]+; Path=\/production\/; HttpOnly; SameSite=Strict; Max-Age=43200/,
    );
    assert.equal((await c.request('GET', `${D}/alerts?status=firing`)).statusCode, 200);
  });

  test('a navigation from another site reloads once from here (SameSite=Strict cookies), no redirect loop', async () => {
    const c = new DashClient(f.monitor.http);
    const r = await c.request('GET', `${D}/`, {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    });
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /<meta http-equiv="refresh" content="0">/);
    const again = await c.request('GET', `${D}/`, {
      headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' },
    });
    assert.equal(again.statusCode, 303);
  });

  test('sign-in refuses a form without its token or from another origin, and never redirects off-site', async () => {
    const c = new DashClient(f.monitor.http);
    assert.equal(
      (await c.request('POST', `${D}/login`, { form: { name: 'admin', password: PASSWORD } })).statusCode,
      403,
    );
    await c.request('GET', `${D}/login`);
    const token = c.cookies.get('prodmon_login')!;
    const foreign = await c.request('POST', `${D}/login`, {
      form: { _csrf: token, name: 'admin', password: PASSWORD },
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(foreign.statusCode, 403);
    const ok = await c.request('POST', `${D}/login`, {
      form: { _csrf: token, name: 'admin', password: PASSWORD, next: 'https://evil.example/' },
    });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, `${D}/`);
    for (const next of ['//evil.example/', `${D}/../../x`, `${D}/%2e%2e/x`, '/\\evil.example']) {
      const r = await c.request('GET', `${D}/login?next=${encodeURIComponent(next)}`);
      assert.equal(r.headers.location, `${D}/`, next);
    }
  });

  test('failed sign-ins are limited: 429 with Retry-After, even for the right password', async () => {
    const c = new DashClient(f.monitor.http, '10.9.9.9');
    for (let i = 0; i < 3; i++) {
      const r = await c.signIn({ name: 'reader', password: 'wrong' });
      assert.equal(r.statusCode, 401);
      assert.match(r.body, /Wrong user name or password/);
    }
    const limited = await c.signIn({ name: 'reader', password: PASSWORD });
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.match(limited.body, /Too many failed sign-ins/);
    assert.equal(c.cookies.has('prodmon_session'), false);
    const elsewhere = await new DashClient(f.monitor.http, '10.9.9.10').signIn({
      name: 'reader',
      password: PASSWORD,
    });
    assert.equal(elsewhere.statusCode, 303, 'another address is not limited');
  });

  test('a bad sign-in field is a 400 sign-in page naming it; no credential is tried, none counted', async () => {
    const c = new DashClient(f.monitor.http, '10.9.9.20');
    const cases: [string, Record<string, string | string[]>, RegExp][] = [
      ['name', { name: 'n'.repeat(201), password: PASSWORD }, /must be at most 200 characters/],
      ['password', { name: 'reader', password: 'p'.repeat(1025) }, /must be at most 1024 characters/],
      ['name', { name: ['reader', 'admin'], password: PASSWORD }, /must be given once/],
      ['token', { token: ['a', 'b'] }, /must be given once/],
    ];
    // more than login_max_failures (3) of them: were they tried, the right password would be refused
    for (const [field, creds, problem] of [...cases, ...cases]) {
      const r = await c.signIn(creds as { token: string });
      assert.equal(r.statusCode, 400, field);
      assert.match(r.body, new RegExp(`&quot;${field}&quot;: `), `${field}: named`);
      assert.match(r.body, problem, field);
      assert.match(r.body, /name="_csrf"/, `${field}: the form again`);
      assert.equal(c.cookies.has('prodmon_session'), false, field);
    }
    const twice = await c.request('POST', `${D}/login`, {
      form: { _csrf: [c.cookies.get('prodmon_login')!, 'x'], name: 'reader', password: PASSWORD },
    });
    assert.equal(twice.statusCode, 400);
    assert.match(twice.body, /&quot;_csrf&quot;: must be given once/);
    const next = await c.request('GET', `${D}/login?next=${D}/alerts&next=${D}/silences`);
    assert.match(next.body, new RegExp(`name="next" value="${D}/"`), 'a return path given twice is none');
    const ok = await c.signIn({ name: 'reader', password: PASSWORD });
    assert.equal(ok.statusCode, 303, 'none of the bad forms counted as a failed sign-in');
    assert.equal(c.cookies.has('prodmon_session'), true);
  });

  test('pages carry a strict CSP and no inline script or handler', async () => {
    const c = await admin();
    for (const path of [`${D}/`, `${D}/alerts`, `${D}/silences`, `${D}/login`]) {
      const r = await (path.endsWith('login') ? new DashClient(f.monitor.http) : c).request('GET', path);
      assert.equal(r.statusCode, 200, path);
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['referrer-policy'], 'same-origin');
      assert.equal(r.headers['cache-control'], 'no-store');
      for (const tag of r.body.match(/<script\b[^>]*>/g) ?? []) {
        assert.match(tag, /\bsrc="|type="application\/json"/, `inline script in ${path}: ${tag}`);
      }
      assert.doesNotMatch(r.body, /\son[a-z]+\s*=/i, `inline handler in ${path}`);
      assert.doesNotMatch(r.body, /\sstyle\s*=/i, `inline style in ${path}`);
    }
  });

  test('sign-out ends the session: the old cookie no longer opens the dashboard', async () => {
    const c = await admin();
    const cookie = c.cookies.get('prodmon_session')!;
    const csrf = await c.csrf();
    const out = await c.request('POST', `${D}/logout`, { form: { _csrf: csrf } });
    assert.equal(out.statusCode, 303);
    assert.equal(c.cookies.has('prodmon_session'), false);
    const replay = await f.monitor.http.inject({
      method: 'GET',
      url: `${D}/`,
      headers: { cookie: `prodmon_session=${cookie}` },
    });
    assert.equal(replay.statusCode, 303);
  });
});

describe('embedded', () => {
  test('mounted under a prefix in an Express app behind its body parsers, sign-in and pages work', async () => {
    const m = await startMonitor({ config: { server: { prefix: '/ops' } } });
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use(express.json());
    app.use(m.monitor.handler);
    app.get('/', (_req, res) => {
      res.send('shop');
    });
    const server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const login = await fetch(`${base}/ops/production/dashboard/login`);
      const cookie = /prodmon_login=([^;]+); Path=\/ops\/production\//.exec(
        login.headers.get('set-cookie') ?? '',
      )?.[1];
      assert.ok(cookie, 'login cookie scoped to the prefix');
      const form = new URLSearchParams({
        _csrf: cookie!,
        name: 'admin',
        password: PASSWORD,
        next: '/ops/production/dashboard/',
      });
      const signed = await fetch(`${base}/ops/production/dashboard/login`, {
        method: 'POST',
        body: form,
        redirect: 'manual',
        headers: { cookie: `prodmon_login=${cookie}`, origin: base },
      });
      assert.equal(signed.status, 303);
      assert.equal(signed.headers.get('location'), '/ops/production/dashboard/');
      const session = /prodmon_session=([^;]+)/.exec(signed.headers.get('set-cookie') ?? '')?.[1];
      const page = await fetch(`${base}/ops/production/dashboard/`, {
        headers: { cookie: `prodmon_session=${session}` },
      });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /href="\/ops\/production\/dashboard\/alerts"/);
      assert.match(html, /content="\/ops\/production\/api\/events"/);
      assert.equal(await (await fetch(`${base}/`)).text(), 'shop');
    } finally {
      server.close();
      await m.close();
    }
  });
});

describe('dashboard actions', () => {
  test('a read-only user sees no actions and cannot resolve', () =>
    withoutEvaluation(f, async () => {
      const alert = await insertAlert(f.monitor.store, Date.now(), {
        rule: 'ro_rule',
        message: 'read-only cannot resolve me',
        severity: 'critical',
      });
      const c = new DashClient(f.monitor.http);
      await c.signIn({ name: 'reader', password: PASSWORD });
      const page = await c.request('GET', `${D}/`);
      assert.match(page.body, /read-only cannot resolve me/);
      assert.doesNotMatch(page.body, /data-action="resolve"/);
      const csrf = await c.csrf();
      const r = await c.request('POST', `${D}/alerts/${alert.id}/resolve`, {
        form: { _csrf: csrf, reason: 'let me' },
      });
      assert.equal(r.statusCode, 403);
      assert.equal((await f.monitor.store.alerts.get(alert.id))?.status, 'firing');
    }));

  test('an admin resolves with a reason: CSRF and origin checked, audited, then in the history', () =>
    withoutEvaluation(f, async () => {
      const alert = await insertAlert(f.monitor.store, Date.now(), {
        rule: 'db_slow',
        message: 'database is slow',
        severity: 'high',
      });
      const c = await admin();
      const url = `${D}/alerts/${alert.id}/resolve`;
      assert.equal((await c.request('POST', url, { form: { reason: 'no token' } })).statusCode, 403);
      const csrf = await c.csrf();
      const foreign = await c.request('POST', url, {
        form: { _csrf: csrf, reason: 'x' },
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(foreign.statusCode, 403);
      const crossSite = await c.request('POST', url, {
        form: { _csrf: csrf, reason: 'x' },
        headers: { 'sec-fetch-site': 'cross-site' },
      });
      assert.equal(crossSite.statusCode, 403);
      const empty = await c.request('POST', url, {
        form: { _csrf: csrf, reason: '  ', back: `${D}/alerts` },
      });
      assert.equal(empty.statusCode, 400);
      assert.equal((await f.monitor.store.alerts.get(alert.id))?.status, 'firing');
      const ok = await c.request('POST', url, {
        form: { _csrf: csrf, reason: 'index added', back: `${D}/alerts` },
      });
      assert.equal(ok.statusCode, 303);
      assert.equal(ok.headers.location, `${D}/alerts?notice=resolved`);
      const stored = await f.monitor.store.alerts.get(alert.id);
      assert.deepEqual(
        [stored?.status, stored?.resolution?.reason, stored?.resolution?.by],
        ['resolved', 'index added', 'admin'],
      );
      const audit = await f.monitor.store.audit.list({ target: alert.id });
      assert.equal(audit[0]?.action, 'alert.resolve');
      const history = await c.request('GET', `${D}/alerts?status=resolved`);
      assert.match(history.body, new RegExp(`data-alert-id="${alert.id}"`));
      assert.match(history.body, /index added/);
      const again = await c.request('POST', url, { form: { _csrf: csrf, reason: 'twice' } });
      assert.equal(again.statusCode, 409);
    }));

  test('an admin silences a rule and ends the silence', async () => {
    const c = await admin();
    const csrf = await c.csrf();
    const r = await c.request('POST', `${D}/silences`, {
      form: {
        _csrf: csrf,
        rule: 'checkout_latency',
        label: ['route=/checkout'],
        duration: '1h',
        comment: 'deploying',
        back: `${D}/silences`,
      },
    });
    assert.equal(r.statusCode, 303);
    const [s] = await f.monitor.store.silences.list(1);
    assert.deepEqual(s?.matchers, { rule: 'checkout_latency', labels: { route: '/checkout' } });
    assert.equal(s!.endsAt - s!.startsAt, 3_600_000);
    const page = await c.request('GET', `${D}/silences`);
    assert.match(page.body, new RegExp(`data-silence-id="${s!.id}"`));
    const noComment = await c.request('POST', `${D}/silences`, {
      form: { _csrf: csrf, rule: 'x', comment: '' },
    });
    assert.equal(noComment.statusCode, 400);
    for (const duration of ['30', 'soon']) {
      const bad = await c.request('POST', `${D}/silences`, {
        form: { _csrf: csrf, rule: 'x', duration, comment: 'a duration without a unit' },
      });
      assert.equal(bad.statusCode, 400, duration);
      assert.match(bad.body, /duration/, duration);
    }
    assert.equal((await f.monitor.store.silences.list(10)).length, 1, 'nothing stored for a bad duration');
    const end = await c.request('POST', `${D}/silences/${s!.id}/expire`, { form: { _csrf: csrf } });
    assert.equal(end.statusCode, 303);
    assert.notEqual((await f.monitor.store.silences.get(s!.id))?.expiredAt, null);
  });

  test('a bad field of an admin form is a 400 page naming it, and nothing is done', () =>
    withoutEvaluation(f, async () => {
      const alert = await insertAlert(f.monitor.store, Date.now(), {
        rule: 'bad_fields',
        message: 'not resolved by a bad form',
        severity: 'high',
      });
      const c = await admin();
      const csrf = await c.csrf();
      const silences = (await f.monitor.store.silences.list(1000)).length;
      const audit = (await f.monitor.store.audit.list({ limit: 1000 })).length;
      const ok = { _csrf: csrf, rule: 'x', comment: 'why', duration: '1h' };
      const cases: [string, string, Record<string, string | string[]>, RegExp][] = [
        ['resolve', 'reason', { _csrf: csrf, reason: 'r'.repeat(1001) }, /must be at most 1000 characters/],
        ['resolve', 'reason', { _csrf: csrf, reason: ['one', 'two'] }, /must be given once/],
        ['silence', 'duration', { ...ok, duration: '30' }, /30 has no unit/],
        ['silence', 'duration', { ...ok, duration: 'soon' }, /expected a duration/],
        ['silence', 'duration', { ...ok, duration: '91d' }, /at most 90d/],
        ['silence', 'duration', { ...ok, duration: ['1h', '2h'] }, /must be given once/],
        ['silence', 'label', { ...ok, label: ['route=/checkout', 'checkout'] }, /name=value/],
        ['silence', 'labels', { ...ok, labels: 'route=/checkout, =POST' }, /name=value/],
        [
          'silence',
          'labels',
          { ...ok, labels: Array.from({ length: 21 }, (_, i) => `l${i}=v`).join(',') },
          /at most 20 labels/,
        ],
        ['silence', 'comment', { ...ok, comment: 'c'.repeat(1001) }, /must be at most 1000 characters/],
        ['silence', 'comment', { ...ok, comment: ' ' }, /comment/],
        ['silence', 'rule', { ...ok, rule: 'r'.repeat(201) }, /must be at most 200 characters/],
        ['silence', 'type', { ...ok, type: 'weather' }, /must be one of/],
      ];
      for (const [form, field, body, problem] of cases) {
        const url = form === 'resolve' ? `${D}/alerts/${alert.id}/resolve` : `${D}/silences`;
        const r = await c.request('POST', url, { form: { ...body, back: `${D}/silences` } });
        const what = `${form} ${field}=${JSON.stringify(body[field]).slice(0, 40)}`;
        assert.equal(r.statusCode, 400, what);
        assert.match(r.body, new RegExp(`${field}(&quot;)?:? `), `${what}: names the field`);
        assert.match(r.body, problem, what);
        assert.match(r.body, new RegExp(`<a href="${D}/silences">Back</a>`), `${what}: links back`);
      }
      assert.equal((await f.monitor.store.alerts.get(alert.id))?.status, 'firing');
      assert.equal((await f.monitor.store.silences.list(1000)).length, silences, 'no silence stored');
      assert.equal((await f.monitor.store.audit.list({ limit: 1000 })).length, audit, 'nothing audited');
      const good = await c.request('POST', `${D}/silences`, {
        form: { ...ok, rule: 'bad_fields', labels: 'route=/checkout, ,method=POST', duration: '' },
      });
      assert.equal(good.statusCode, 303, 'blank items are skipped; no duration is 4h');
      const [s] = await f.monitor.store.silences.list(1);
      assert.deepEqual(s?.matchers, { rule: 'bad_fields', labels: { route: '/checkout', method: 'POST' } });
      assert.equal(s!.endsAt - s!.startsAt, 4 * 3_600_000);
    }));
});

describe('dashboard output', () => {
  test('alert messages, labels and routes are text; a javascript: label is never a link', async () => {
    const alert = await insertAlert(f.monitor.store, Date.now(), {
      rule: 'xss',
      message: '<img src=x onerror=alert(1)>',
      labels: {
        route: '<script>alert(2)</script>',
        runbook: 'javascript:alert(3)',
        docs: 'https://runbooks.example/x',
      },
    });
    const c = await admin();
    for (const path of [`${D}/`, `${D}/alerts/${alert.id}`, `${D}/alerts`]) {
      const body = (await c.request('GET', path)).body;
      assert.ok(!body.includes('<img src=x'), path);
      assert.ok(body.includes('&lt;img src=x onerror=alert(1)&gt;'), path);
      assert.ok(!body.includes('<script>alert(2)'), path);
      assert.doesNotMatch(body, /href="\s*javascript:/i, path);
      assert.match(body, /runbook=javascript:alert\(3\)/, path);
      assert.match(body, /<a href="https:\/\/runbooks.example\/x" rel="noopener noreferrer nofollow"/, path);
    }
  });

  test('the whole page (HTML and every asset it loads) stays under 150 KB gzipped', async () => {
    const c = await admin();
    const gz = { 'accept-encoding': 'gzip' };
    const page = await c.request('GET', `${D}/?range=7d`, { headers: gz });
    assert.equal(page.headers['content-encoding'], 'gzip');
    const html = gunzipSync(page.rawPayload).toString('utf8');
    const urls = new Set(
      [...html.matchAll(/(?:src|href)="(\/production\/dashboard\/assets\/[^"]+)"/g)].map((m) => m[1]!),
    );
    for (const mod of ['dom.js', 'live.js', 'charts.js', 'format.js']) urls.add(`${D}/assets/${mod}`);
    let total = page.rawPayload.length;
    for (const u of urls) {
      const r = await c.request('GET', u, { headers: gz });
      assert.equal(r.statusCode, 200, u);
      total += r.rawPayload.length;
    }
    assert.ok(urls.size >= 8, [...urls].join(' '));
    assert.ok(total < 150 * 1024, `page weight ${total} bytes`);
  });

  test('assets are served gzipped with a content hash; traversal answers 404 and never a file', async () => {
    const c = await admin();
    const page = (await c.request('GET', `${D}/`)).body;
    const appJs = /src="([^"]+app\.js\?v=[0-9a-f]+)"/.exec(page)![1]!;
    const r = await c.request('GET', appJs, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.match(String(r.headers['cache-control']), /immutable/);
    assert.equal(
      (await c.request('GET', appJs, { headers: { 'if-none-match': String(r.headers.etag) } })).statusCode,
      304,
    );
    const db = readFileSync(f.monitor.config.paths.db).subarray(0, 16).toString('latin1');
    assert.equal(db, 'SQLite format 3\u0000');
    const attempts = [
      `${D}/assets/..%2f..%2f..%2fprodmon.db`,
      `${D}/assets/%2e%2e%2fprodmon.db`,
      `${D}/assets/%252e%252e%252fprodmon.db`,
      `${D}/assets/..%5c..%5cprodmon.db`,
      `${D}/assets/..\\..\\prodmon.db`,
      `${D}/assets/../../../etc/passwd`,
      `${D}/assets/static/../app.js`,
      `${D}/assets/tsconfig.json`,
      `${D}/assets/..%2f..%2fhttp%2froutes%2fdashboard.ts`,
      `${D}/assets/%2e%2e%5c%2e%2e%5cprodmon.yaml`,
      `${D}/assets/..%2f..%2flogs%2ferror.log`,
    ];
    for (const path of attempts) {
      const res = await rawGet(path);
      assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
      assert.ok(!res.body.includes('SQLite format'), path);
      assert.ok(!res.body.includes('compilerOptions'), path);
      assert.ok(!res.body.includes('import '), path);
    }
  });
});
