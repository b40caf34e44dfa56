/**
 * Notifications as a user gets them: channels from a YAML file, real receivers on loopback (SMTP,
 * webhook, Slack, PagerDuty, Alertmanager), a fake clock; each receiver must get exactly the expected
 * notifications, no fewer and no more. Then crashes: real child processes killed with SIGKILL at four
 * points, and a second process that resumes.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { FakeClock } from '../../src/core/clock.js';
import { NotificationPipeline } from '../../src/notifiers/pipeline.js';
import { openStore, type Store } from '../../src/store/index.js';
import { bundled } from '../support/build.js';
import { killIfRunning } from '../support/cli.js';
import { sampleAlert, T0, transition } from '../support/notify-fixtures.js';
import {
  answerLikeServices,
  type HttpReceiver,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
  verifyStandardWebhook,
} from '../support/receivers.js';
import { tempDir } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const MIN = 60_000;
const SECRET = `whsec_${Buffer.from('acceptance-test-secret-0123456789').toString('base64')}`;
type Json = Record<string, unknown>;

describe('notifications from a YAML config to real receivers', () => {
  const dir = tempDir();
  let smtp: SmtpReceiver;
  let http: HttpReceiver;
  let store: Store;
  let pipeline: NotificationPipeline;
  const clock = new FakeClock(T0);
  const at = (path: string) => http.requests.filter((r) => r.path === path);

  before(async () => {
    smtp = await startSmtpReceiver();
    http = await startHttpReceiver();
    http.answer(answerLikeServices);
    writeFileSync(
      join(dir.path, 'prodmon.yaml'),
      `server: { public_url: "https://ops.shop.example" }
notifications:
  channels:
    - { name: ops-mail, kind: email, to: [ops@shop.example], smtp: { host: 127.0.0.1, port: ${smtp.port}, starttls: "off" } }
    - { name: hook, kind: webhook, url: "${http.url}/hook", secret: "\${HOOK_SECRET}" }
    - { name: chat, kind: slack, url: "${http.url}/slack" }
    - { name: pager, kind: pagerduty, routing_key: "\${PD_KEY}", url: "${http.url}/pd", severities: [critical] }
    - { name: am, kind: alertmanager, url: "${http.url}/am" }
    - { name: boss, kind: webhook, url: "${http.url}/boss", escalation_only: true }
`,
    );
    const config = loadConfig({
      configPath: join(dir.path, 'prodmon.yaml'),
      dataDir: dir.path,
      env: { HOOK_SECRET: SECRET, PD_KEY: 'pd-routing-key' },
    });
    store = await openStore({ driver: 'sqlite', path: config.paths.db });
    await store.migrate(T0);
    pipeline = new NotificationPipeline({ config, store, clock, random: () => 0.5 });
    pipeline.start();
  });
  after(async () => {
    await pipeline.stop();
    await store.close();
    await smtp.close();
    await http.close();
    dir.cleanup();
  });

  const accept = async (t: ReturnType<typeof transition>) => {
    clock.set(t.at);
    await store.transaction((tx) => pipeline.sink.accept(tx, t, t.at));
    await pipeline.worker.idle();
  };

  test('firing, escalation to critical, escalation after 30 min, resolution: exactly these, where routed', async () => {
    const high = sampleAlert({ id: 'al_1', severity: 'high' });
    const crit = { ...high, severity: 'critical' as const };
    await accept(transition('firing', high));
    await accept(transition('firing', sampleAlert({ id: 'al_low', fingerprint: 'low', severity: 'low' })));
    await accept(transition('escalated', crit, { at: T0 + MIN, previousSeverity: 'high' }));
    await accept(transition('escalation', crit, { at: T0 + 30 * MIN }));
    await accept(transition('resolved', crit, { at: T0 + 35 * MIN }));
    await clock.advance(60 * MIN);
    await pipeline.worker.idle();
    await smtp.waitFor(4);

    const type = (r: { json: unknown }) => (r.json as Json).type;
    assert.deepEqual(at('/hook').map(type), [
      'alert.firing',
      'alert.escalated',
      'alert.escalation',
      'alert.resolved',
    ]);
    for (const r of at('/hook'))
      assert.equal(verifyStandardWebhook(r, [SECRET], Math.floor(clock.now() / 1000), 7200), null);
    assert.equal(
      new Set(at('/hook').map((r) => r.headers['webhook-id'])).size,
      4,
      'one webhook-id per transition',
    );
    assert.deepEqual(at('/boss').map(type), ['alert.escalation', 'alert.resolved']);

    // Grouped (the default): one PagerDuty alert per rule, keyed by the group.
    assert.deepEqual(
      at('/pd').map((r) => [(r.json as Json).event_action, (r.json as Json).dedup_key]),
      [
        ['trigger', 'prodmon-group:api_response_time'],
        ['trigger', 'prodmon-group:api_response_time'],
        ['resolve', 'prodmon-group:api_response_time'],
      ],
    );
    assert.equal(((at('/pd')[0]!.json as Json).payload as Json).severity, 'critical');
    assert.equal((at('/pd')[0]!.json as Json).routing_key, 'pd-routing-key');

    const headers = at('/slack').map(
      (r) => (r.json as { blocks: { text: { text: string } }[] }).blocks[0]!.text.text,
    );
    assert.deepEqual(headers, [
      'HIGH: api_response_time is firing',
      'CRITICAL: api_response_time escalated from high',
      'ESCALATION CRITICAL: api_response_time unresolved for 30m',
      'RESOLVED: api_response_time after 35m',
    ]);

    assert.deepEqual(
      at('/am/api/v2/alerts').map((r) =>
        (r.json as { labels: { severity: string } }[]).map((a) => a.labels.severity),
      ),
      [['high'], ['high', 'critical'], ['critical'], ['critical']],
    );

    assert.deepEqual(
      smtp.mails.map((m) => m.subject?.replace(/: p95 latency.*$/, '')),
      [
        '[prodmon] HIGH: api_response_time is firing',
        '[prodmon] CRITICAL: api_response_time escalated from high',
        '[prodmon] ESCALATION CRITICAL: api_response_time unresolved for 30m',
        '[prodmon] RESOLVED: api_response_time after 35m',
      ],
    );
    assert.match(
      smtp.mails[0]!.text ?? '',
      /View the alert: https:\/\/ops\.shop\.example\/production\/dashboard\/#\/alerts\/al_1/,
    );
    assert.equal(http.requests.length, 4 + 2 + 3 + 4 + 4, 'nothing else reached any receiver');
    assert.deepEqual(await store.outbox.counts(), { pending: 0, delivered: 21, failed: 0, dead: 0 });
  });
});

const CHILD = fileURLToPath(new URL('../support/outbox-child.ts', import.meta.url));

/** Monitor processes started by the running test (killed after it, if a failure left them running). */
const spawned: ChildProcess[] = [];

/** A monitor process (test/support/outbox-child.ts) driven over stdin. */
function monitor(db: string, url: string, holdAfterSend = false) {
  const p: ChildProcess = spawn(
    process.execPath,
    [bundled(CHILD), db, url, ...(holdAfterSend ? ['--hold-after-send'] : [])],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  spawned.push(p);
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((r) => p.on('exit', () => r()));
  return {
    send: (line: string) => void p.stdin!.write(`${line}\n`),
    expect: (re: RegExp) =>
      waitFor(() => re.test(out), { timeout: 20_000, what: () => `${re} in child output:\n${out}\n${err}` }),
    async kill9() {
      p.kill('SIGKILL');
      await exited;
    },
    async end() {
      p.stdin!.end();
      await exited;
    },
  };
}

describe('crash safety: SIGKILL at four points, then a second process resumes', () => {
  let rx: HttpReceiver;
  let dir: { path: string; cleanup: () => void };
  before(async () => {
    rx = await startHttpReceiver();
  });
  after(() => rx.close());
  afterEach(() => {
    for (const p of spawned.splice(0)) killIfRunning(p);
  });
  const fresh = () => {
    dir?.cleanup();
    dir = tempDir();
    rx.requests.length = 0;
    rx.answer(() => ({ status: 200 }));
    return join(dir.path, 'prodmon.db');
  };
  const ids = () => rx.requests.map((r) => `${r.headers['webhook-id']} ${(r.json as Json).type}`);
  const outbox = async (db: string) => {
    const s = await openStore({ driver: 'sqlite', path: db });
    try {
      return { counts: await s.outbox.counts(), items: await s.outbox.list(['delivered']) };
    } finally {
      await s.close();
    }
  };
  /** A second process delivers everything pending, then stops. */
  const resume = async (db: string, expectRequests: number) => {
    const second = monitor(db, rx.url);
    second.send('start');
    await rx.waitFor(expectRequests, 20_000);
    second.send('stop');
    await second.expect(/stopped/);
    await second.end();
  };

  test('killed after the firing was stored, before any send: sent once after restart', async () => {
    const db = fresh();
    const first = monitor(db, rx.url);
    first.send('fire al_1');
    await first.expect(/stored ev_al_1_fire/);
    await first.kill9();
    assert.equal(rx.requests.length, 0);
    await resume(db, 1);
    assert.deepEqual(
      ids().map((s) => s.split(' ')[1]),
      ['alert.firing'],
    );
    assert.deepEqual((await outbox(db)).counts, { pending: 0, delivered: 1, failed: 0, dead: 0 });
  });

  test('killed mid-send (the receiver holds the response): resent with the same webhook-id', async () => {
    const db = fresh();
    rx.answer(() => 'hold');
    const first = monitor(db, rx.url);
    first.send('start');
    first.send('fire al_2');
    await rx.waitFor(1, 20_000);
    await first.kill9();
    rx.answer(() => ({ status: 200 }));
    await resume(db, 2);
    assert.equal(rx.requests.length, 2);
    const [a, b] = ids();
    assert.equal(a, b, 'the repeat carries the same webhook-id');
    const { counts, items } = await outbox(db);
    assert.deepEqual(counts, { pending: 0, delivered: 1, failed: 0, dead: 0 });
    assert.equal(`${items[0]!.id} alert.firing`, a);
    assert.equal(items[0]!.attempts, 1, 'the killed attempt was never recorded');
  });

  test('killed after the send succeeded but before it was recorded: at-least-once, same webhook-id', async () => {
    const db = fresh();
    const first = monitor(db, rx.url, true);
    first.send('start');
    first.send('fire al_3');
    await first.expect(/sent nt_\w+ ok/);
    await first.kill9();
    assert.equal(rx.requests.length, 1);
    await resume(db, 2);
    assert.equal(rx.requests.length, 2);
    const [a, b] = ids();
    assert.equal(a, b);
    assert.deepEqual((await outbox(db)).counts, { pending: 0, delivered: 1, failed: 0, dead: 0 });
  });

  test('killed after the resolution was stored, before it was sent: the resolution is not lost', async () => {
    const db = fresh();
    const first = monitor(db, rx.url);
    first.send('start');
    first.send('fire al_4');
    await rx.waitFor(1, 20_000);
    first.send('stop');
    await first.expect(/stopped/);
    first.send('resolve al_4');
    await first.expect(/stored ev_al_4_resolve/);
    await first.kill9();
    assert.equal(rx.requests.length, 1);
    await resume(db, 2);
    const sent = ids();
    assert.deepEqual(
      sent.map((s) => s.split(' ')[1]),
      ['alert.firing', 'alert.resolved'],
    );
    assert.equal(new Set(sent.map((s) => s.split(' ')[0])).size, 2, 'one webhook-id per transition');
    assert.deepEqual((await outbox(db)).counts, { pending: 0, delivered: 2, failed: 0, dead: 0 });
  });

  after(() => dir?.cleanup());
});
