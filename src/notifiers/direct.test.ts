/** The direct path for the store alert, against real webhook receivers: told once, never twice, resolved. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type HttpReceiver, startHttpReceiver } from '../../test/support/receivers.js';
import { tempDir } from '../../test/support/services.js';
import { parseConfig } from '../config/load.js';
import { FakeClock } from '../core/clock.js';
import { type DirectAlertSpec, DirectAlerts } from './direct.js';
import { alertLink } from './message.js';
import { buildChannels } from './pipeline.js';
import type { AlertNotification } from './types.js';

const T0 = Date.UTC(2026, 3, 1, 9, 0, 0);
const SPEC: DirectAlertSpec = {
  rule: 'health_check',
  fingerprint: 'health_check{check="self"}',
  severity: 'high',
  labels: { check: 'self' },
  message: 'health check self is unhealthy: store: unhealthy (the SQLite file was deleted)',
};

describe('direct alerts about the store', () => {
  let receiver: HttpReceiver;
  const dir = tempDir();
  let clock: FakeClock;
  let leader = true;
  let n = 0;
  const lines: string[] = [];
  const at = (path: string) => receiver.requests.filter((r) => r.path === path);
  const type = (r: { json: unknown }) => (r.json as { type: string }).type;

  before(async () => {
    receiver = await startHttpReceiver();
  });
  after(async () => {
    await receiver.close();
    dir.cleanup();
  });
  beforeEach(() => {
    receiver.requests.length = 0;
    receiver.answer((r) => (r.path === '/down' ? { status: 503 } : { status: 200 }));
    clock = new FakeClock(T0);
    leader = true;
    lines.length = 0;
  });

  function direct(file = join(dir.path, `record-${++n}.json`)) {
    const config = parseConfig(
      {
        notifications: {
          channels: [
            { name: 'ops', kind: 'webhook', url: `${receiver.url}/ops` },
            { name: 'down', kind: 'webhook', url: `${receiver.url}/down` },
            { name: 'low-only', kind: 'webhook', url: `${receiver.url}/low`, severities: ['low'] },
          ],
        },
      },
      { env: {} },
    );
    const channels = buildChannels(config, clock);
    const log = (o: object, m: string) => lines.push(`${m} ${JSON.stringify(o)}`);
    const d = new DirectAlerts({
      clock,
      channels,
      routes: config.notifications.channels,
      link: (id) => alertLink(config, id),
      attemptTimeoutMs: 5000,
      holdMs: 30_000,
      file,
      mayNotify: () => leader,
      log: { error: log, warn: log, info: log },
    });
    return { d, file, wrapped: d.wrap(channels) };
  }

  /** The engine's notification of the adopted alert, as the outbox worker would hand it over. */
  function regular(alertId: string, channel: string, event: 'firing' | 'resolved'): AlertNotification {
    return {
      id: `ev_x:${channel}:${event}`,
      channel,
      event,
      transitionId: `ev_x_${event}`,
      at: clock.now(),
      link: null,
      alert: {
        id: alertId,
        rule: SPEC.rule,
        fingerprint: SPEC.fingerprint,
        type: 'system',
        severity: 'high',
        status: event === 'resolved' ? 'resolved' : 'firing',
        message: SPEC.message,
        value: 2,
        threshold: 2,
        labels: SPEC.labels,
        metadata: {},
        createdAt: T0,
        firingAt: T0,
        resolvedAt: event === 'resolved' ? clock.now() : null,
        resolution: null,
      },
    };
  }

  test('told once on every routed channel; a failed channel is retried at most three times', async () => {
    const { d, file } = direct();
    d.failing(SPEC, 'the SQLite file was deleted');
    d.failing(SPEC, 'the SQLite file was deleted');
    await d.idle();
    assert.deepEqual(at('/ops').map(type), ['alert.firing']);
    assert.equal(at('/low').length, 0, 'routing applies: this channel takes only low');
    assert.equal(at('/down').length, 1);
    const body = at('/ops')[0]!.json as {
      data: { alert: { id: string; metadata: object; message: string } };
    };
    assert.equal(body.data.alert.id, d.current!.alertId);
    assert.deepEqual(body.data.alert.metadata, {
      delivery: 'direct',
      reason: 'prodmon could not use its store',
    });
    for (let i = 0; i < 5; i++) {
      d.failing(SPEC, 'the SQLite file was deleted');
      await d.idle();
    }
    assert.equal(at('/ops').length, 1, 'never twice');
    assert.equal(at('/down').length, 3, 'three attempts, then the regular path takes over');
    const record = JSON.parse(readFileSync(file, 'utf8')) as { episodes: { told: object; failed: object }[] };
    assert.deepEqual(Object.keys(record.episodes[0]!.told), ['ops']);
    assert.deepEqual(Object.keys(record.episodes[0]!.failed), ['down']);
  });

  test('the engine takes it over under its id: its firing is not sent again where told, the resolution is', async () => {
    const { d, wrapped } = direct();
    d.failing(SPEC, 'the SQLite file was deleted');
    await d.idle();
    const id = d.adoptId(SPEC.fingerprint)!;
    assert.equal(id, d.current!.alertId);
    assert.equal(d.adoptId('other{}'), undefined);
    assert.equal(d.recovered().holding, true, 'self stays unhealthy until the engine has the alert');
    d.noteChange({ id, status: 'firing' });
    assert.equal(d.recovered().holding, false);
    assert.equal(d.adoptId(SPEC.fingerprint), undefined, 'the episode is over');
    const signal = new AbortController().signal;
    assert.deepEqual(await wrapped.get('ops')!.notifier.send(regular(id, 'ops', 'firing'), signal), {
      ok: true,
    });
    assert.equal(at('/ops').length, 1, 'not sent again');
    assert.match(lines.join('\n'), /not sent again: "ops" was told of this alert directly/);
    // The channel the direct send failed on gets the regular firing.
    const down = await wrapped.get('down')!.notifier.send(regular(id, 'down', 'firing'), signal);
    assert.equal(down.ok, false);
    assert.equal(at('/down').length, 2);
    // The resolution goes out, and the record is forgotten.
    await wrapped.get('ops')!.notifier.send(regular(id, 'ops', 'resolved'), signal);
    assert.deepEqual(at('/ops').map(type), ['alert.firing', 'alert.resolved']);
    assert.equal(d.episodes.length, 0);
  });

  test('not taken over within the hold: the direct path resolves what it told', async () => {
    const { d } = direct();
    d.failing(SPEC, 'the SQLite file was deleted');
    await d.idle();
    assert.equal(d.recovered().holding, true);
    await clock.advance(29_000);
    assert.equal(d.recovered().holding, true);
    await clock.advance(1000);
    assert.equal(d.recovered().holding, false);
    await d.idle();
    assert.deepEqual(at('/ops').map(type), ['alert.firing', 'alert.resolved']);
    const resolved = at('/ops')[1]!.json as {
      data: { alert: { id: string; resolution: { reason: string } } };
    };
    assert.equal(
      resolved.data.alert.id,
      (at('/ops')[0]!.json as { data: { alert: { id: string } } }).data.alert.id,
    );
    assert.equal(resolved.data.alert.resolution.reason, 'the store works again');
    assert.equal(at('/down').length, 1, 'only the channels that were told');
  });

  test('the record survives a restart: the new process goes on with the same alert', async () => {
    const first = direct();
    first.d.failing(SPEC, 'the SQLite file was deleted');
    await first.d.idle();
    const id = first.d.current!.alertId;
    const second = direct(first.file);
    assert.equal(second.d.current?.alertId, id);
    second.d.failing(SPEC, 'still failing');
    await second.d.idle();
    assert.equal(at('/ops').length, 1, 'not told again after the restart');
    assert.equal(second.d.adoptId(SPEC.fingerprint), id);
  });

  test('only the leader tells; without a rule nobody is told, and it is logged', async () => {
    const follower = direct();
    leader = false;
    follower.d.failing(SPEC, 'unreachable');
    await follower.d.idle();
    assert.equal(receiver.requests.length, 0);
    assert.equal(follower.d.current, undefined);
    assert.equal(existsSync(follower.file), false);
    leader = true;
    const norule = direct();
    norule.d.failing(null, 'unreachable');
    await norule.d.idle();
    assert.equal(receiver.requests.length, 0);
    assert.match(lines.join('\n'), /no alert rule covers the self check: nobody is told/);
  });
});
