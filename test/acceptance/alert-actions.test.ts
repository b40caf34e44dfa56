/**
 * One path per action: resolving an alert, creating a silence and ending one leave the same audit row
 * and the same security log line whether asked from the dashboard (a form posted over HTTP with a
 * session cookie and its CSRF token), the HTTP API (a bearer token) or the CLI (`prodmon alerts ...`
 * run as a process on the same data directory). The log lines are read from the real security.log.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ADMIN_TOKEN,
  insertAlert,
  type MonitorFixture,
  PASSWORD,
  startMonitor,
} from '../../src/dashboard/test-support/fixture.js';
import { runCli } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

/** A browser-like client over real HTTP: keeps cookies, posts forms. */
class Browser {
  readonly #cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>) {
    const headers: Record<string, string> = { origin: this.base, 'sec-fetch-site': 'same-origin' };
    if (this.#cookies.size) headers.cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      redirect: 'manual',
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      if (/Max-Age=0/i.test(c)) this.#cookies.delete(pair!.slice(0, i));
      else this.#cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }

  async signIn(name: string, password: string): Promise<void> {
    const page = await this.request('GET', '/production/dashboard/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const r = await this.request('POST', '/production/dashboard/login', {
      _csrf: csrf,
      next: '/production/dashboard/',
      name,
      password,
    });
    assert.equal(r.status, 303, r.body);
    assert.ok(this.#cookies.size > 0, 'signed in: a session cookie');
  }

  /** The CSRF token of a page (its meta tag). */
  async csrf(path = '/production/dashboard/alerts'): Promise<string> {
    const page = await this.request('GET', path);
    const token = /<meta name="csrf-token" content="([^"]*)">/.exec(page.body)?.[1];
    assert.ok(token, `a CSRF token on ${path}`);
    return token;
  }
}

interface LogLine {
  event?: string;
  msg?: string;
  [k: string]: unknown;
}

describe('alert actions from the dashboard, the API and the CLI', () => {
  let f: MonitorFixture;
  let browser: Browser;
  const securityLog = () => join(f.dir, 'logs', 'security.log');
  const cli = (...args: string[]) =>
    runCli(['--data-dir', f.dir, 'alerts', ...args], { cwd: f.dir, env: {} });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${f.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  /** The security log's lines of `event` (JSON), once `n` of them are written. */
  async function logLines(event: string, n: number): Promise<LogLine[]> {
    let lines: LogLine[] = [];
    await waitFor(
      async () => {
        await f.monitor.logger.flush();
        if (!existsSync(securityLog())) return false;
        lines = readFileSync(securityLog(), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as LogLine)
          .filter((l) => l.event === event);
        return lines.length >= n;
      },
      { timeout: 10_000, what: `${n} ${event} lines in security.log` },
    );
    return lines;
  }

  /** The keys of a line that are not the logger's own (time, pid...). */
  const shape = (l: LogLine) =>
    Object.keys(l)
      .filter((k) => !['level', 'time', 'pid', 'hostname', 'instance'].includes(k))
      .sort();

  before(async () => {
    f = await startMonitor({ fileLogs: true });
    browser = new Browser(f.url);
    await browser.signIn('admin', PASSWORD);
  });
  after(async () => {
    await f?.close();
  });

  test('a resolution writes the same audit row and the same log line, whoever asks', async () => {
    const now = Date.now();
    const [byForm, byApi, byCli] = await Promise.all(
      ['dashboard', 'api', 'cli'].map((via) =>
        insertAlert(f.monitor.store, now, { rule: `manual_${via}`, message: `resolve me (${via})` }),
      ),
    );

    const csrf = await browser.csrf();
    const form = await browser.request('POST', `/production/dashboard/alerts/${byForm!.id}/resolve`, {
      _csrf: csrf,
      reason: 'fixed from the dashboard',
      back: '/production/dashboard/alerts',
    });
    assert.equal(form.status, 303, form.body);
    assert.match(form.location ?? '', /notice=resolved/);

    const viaApi = await api('POST', '/production/alerts/resolve/', {
      id: byApi!.id,
      reason: 'fixed over the API',
    });
    assert.equal(viaApi.status, 200, JSON.stringify(viaApi.json));

    const viaCli = await cli('resolve', byCli!.id, '--reason', 'fixed from the shell', '--by', 'cli:tester');
    assert.equal(viaCli.code, 0, viaCli.stderr);

    const expected = [
      [byForm!.id, 'admin', 'fixed from the dashboard'],
      [byApi!.id, 'ops-token', 'fixed over the API'],
      [byCli!.id, 'cli:tester', 'fixed from the shell'],
    ];
    const audits = await Promise.all(
      expected.map(async ([id, actor, reason]) => {
        const rows = (await f.monitor.store.audit.list({ target: id })).filter(
          (a) => a.action === 'alert.resolve',
        );
        assert.equal(rows.length, 1, `one audit row for ${id}`);
        assert.deepEqual([rows[0]!.actor, rows[0]!.detail.reason], [actor, reason]);
        return rows[0]!;
      }),
    );
    const auditShape = (r: (typeof audits)[number]) => [r.action, Object.keys(r.detail).sort()];
    assert.deepEqual(auditShape(audits[1]!), auditShape(audits[0]!));
    assert.deepEqual(auditShape(audits[2]!), auditShape(audits[0]!));

    const lines = await logLines('alert.resolve', 3);
    const line = (id: string) => {
      const found = lines.filter((l) => l.alert === id);
      assert.equal(found.length, 1, `one log line for ${id}: ${JSON.stringify(lines)}`);
      return found[0]!;
    };
    for (const [id, actor, reason] of expected) {
      const l = line(id!);
      assert.deepEqual([l.msg, l.actor, l.reason], ['alert resolved by hand', actor, reason]);
      assert.deepEqual(shape(l), shape(line(byForm!.id)));
    }
  });

  test('creating and ending a silence writes the same audit rows and log lines, whoever asks', async () => {
    const csrf = await browser.csrf('/production/dashboard/silences');
    const form = await browser.request('POST', '/production/dashboard/silences', {
      _csrf: csrf,
      rule: 'silence_dashboard',
      duration: '30m',
      comment: 'deploy (dashboard)',
    });
    assert.equal(form.status, 303, form.body);
    const viaApi = await api('POST', '/production/alerts/silences/', {
      rule: 'silence_api',
      duration: '30m',
      comment: 'deploy (api)',
    });
    assert.equal(viaApi.status, 201, JSON.stringify(viaApi.json));
    const viaCli = await cli(
      'silence',
      '--rule',
      'silence_cli',
      '--for',
      '30m',
      '--comment',
      'deploy (cli)',
      '--by',
      'cli:tester',
      '--json',
    );
    assert.equal(viaCli.code, 0, viaCli.stderr);

    const silences = await f.monitor.store.silences.list(100);
    const idOf = (rule: string) => silences.find((s) => s.matchers.rule === rule)!.id;
    const ids = ['silence_dashboard', 'silence_api', 'silence_cli'].map(idOf);

    // End each from another place than it was made.
    const csrf2 = await browser.csrf('/production/dashboard/silences');
    const ended = await browser.request('POST', `/production/dashboard/silences/${ids[1]}/expire`, {
      _csrf: csrf2,
    });
    assert.equal(ended.status, 303, ended.body);
    assert.equal((await api('DELETE', `/production/alerts/silences/${ids[2]}`)).status, 200);
    const cliExpire = await cli('expire', ids[0]!, '--by', 'cli:tester');
    assert.equal(cliExpire.code, 0, cliExpire.stderr);

    const actors: Record<string, [string, string]> = {
      [ids[0]!]: ['admin', 'cli:tester'],
      [ids[1]!]: ['ops-token', 'admin'],
      [ids[2]!]: ['cli:tester', 'ops-token'],
    };
    for (const id of ids) {
      const rows = await f.monitor.store.audit.list({ target: id });
      assert.deepEqual(
        rows.map((r) => r.action).sort(),
        ['silence.create', 'silence.expire'],
        `audit rows of ${id}`,
      );
      const create = rows.find((r) => r.action === 'silence.create')!;
      const expire = rows.find((r) => r.action === 'silence.expire')!;
      assert.deepEqual([create.actor, expire.actor], actors[id]);
      assert.deepEqual(Object.keys(create.detail).sort(), ['comment', 'endsAt', 'matchers', 'startsAt']);
      assert.deepEqual(Object.keys(expire.detail).sort(), ['matchers']);
    }

    const created = await logLines('silence.create', 3);
    const expired = await logLines('silence.expire', 3);
    for (const id of ids) {
      const c = created.filter((l) => l.silence === id);
      const e = expired.filter((l) => l.silence === id);
      assert.equal(c.length, 1, `one 'silence created' line for ${id}`);
      assert.equal(e.length, 1, `one 'silence expired' line for ${id}`);
      assert.deepEqual([c[0]!.msg, c[0]!.actor], ['silence created', actors[id]![0]]);
      assert.deepEqual([e[0]!.msg, e[0]!.actor], ['silence expired', actors[id]![1]]);
      assert.deepEqual(shape(c[0]!), shape(created[0]!));
      assert.deepEqual(shape(e[0]!), shape(expired[0]!));
    }
  });
});
