/**
 * Alerts that fire soon after a deploy say so, in the notification a real webhook receiver gets: a
 * pipeline records markers over HTTP (a `deploy` token), requests turn slow, the engine fires, and the
 * message reads "firing 3 min after deploy v1.4.2". A marker of one instance names only the alerts of
 * that instance; a global one names every alert; one older than `deployments.alert_window` none.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type App, createApp } from '../../src/app.js';
import { FakeClock } from '../../src/core/clock.js';
import { METRIC } from '../../src/metrics/names.js';
import { type HttpReceiver, startHttpReceiver } from '../support/receivers.js';
import { tempDir } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const DEPLOY = 'deploy-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const MIN = 60_000;

interface Hook {
  type: string;
  data: {
    text: string;
    summary: string;
    alert: {
      rule: string;
      labels: Record<string, string>;
      message: string;
      metadata: Record<string, unknown>;
    };
  };
}

describe('alerts after a deploy, notified to a webhook', () => {
  const dir = tempDir();
  const clock = new FakeClock(T0);
  let rx: HttpReceiver;
  let m: App;

  const slow = (route: string, labels: Record<string, string> = {}) => {
    for (let i = 0; i < 5; i++)
      m.metrics.record(METRIC.httpRequest, { route, method: 'GET', status_class: '2xx', ...labels }, 2600);
  };
  const mark = async (body: Record<string, unknown>) => {
    const r = await m.http.inject({
      method: 'POST',
      url: '/production/api/deployments',
      headers: { authorization: `Bearer ${DEPLOY}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    assert.equal(r.statusCode, 201, r.body);
  };
  /** The webhook notifications of alerts firing, by the alert's rule and instance. */
  const fired = () =>
    new Map(
      rx.requests
        .map((r) => r.json as Hook)
        .filter((h) => h.type === 'alert.firing')
        .map((h) => [`${h.data.alert.rule}|${h.data.alert.labels.instance ?? ''}`, h.data]),
    );

  before(async () => {
    rx = await startHttpReceiver();
    const rule = (name: string, route: string, groupBy: string[] = []) => ({
      name,
      metric: METRIC.httpRequest,
      labels: { route },
      group_by: groupBy,
      aggregation: 'max' as const,
      window: '1m',
      warning: 1000,
      critical: 2000,
      for: '0s',
      message: `${route} is slow: {{value}} ms`,
    });
    m = createApp(
      {
        data_dir: dir.path,
        logs: { stdout: false },
        health: { builtin_checks: false },
        auth: {
          tokens: [
            { name: 'pipeline', token: DEPLOY, role: 'deploy' },
            { name: 'ops', token: ADMIN, role: 'admin' },
          ],
        },
        alerting: {
          thresholds: {
            api_response_time: { enabled: false },
            error_rate: { enabled: false },
            cpu_usage: { enabled: false },
            memory_usage: { enabled: false },
            disk_usage: { enabled: false },
            database_query_time: { enabled: false },
          },
          rules: [
            rule('checkout_slow', '/checkout', ['instance']),
            rule('search_slow', '/search'),
            rule('cart_slow', '/cart'),
          ],
        },
        deployments: { alert_window: '30m' },
        notifications: {
          grouping: { enabled: false },
          channels: [{ name: 'hook', kind: 'webhook', url: `${rx.url}/hook` }],
        },
      },
      { env: {}, fileLogs: false, clock },
    );
    await m.start();
    await clock.advance(10_000); // the leader lease renews on this clock; only the leader evaluates
  });
  after(async () => {
    await m?.stop({ drainDelayMs: 0 });
    await rx?.close();
    dir.cleanup();
  });

  test('the notification names the deploy that applies; instance markers only their instance', async () => {
    await mark({ version: 'v1.4.2', note: 'whole service' }); // T0 + 10 s
    await clock.advance(50_000);
    await mark({ version: 'v1.4.3-web1', instance: 'web-1' }); // T0 + 1 min
    await clock.advance(2 * MIN + 10_000); // T0 + 3 min 10 s

    slow('/checkout', { instance: 'web-1' });
    slow('/checkout', { instance: 'web-2' });
    slow('/search');
    await m.alerting.evaluateNow();
    await rx.waitFor(3, 20_000);

    const got = fired();
    const web1 = got.get('checkout_slow|web-1')!;
    const web2 = got.get('checkout_slow|web-2')!;
    const search = got.get('search_slow|')!;
    assert.ok(web1 && web2 && search, `three firings: ${[...got.keys()].join(', ')}`);
    assert.match(web1.text, /^Deploy: +firing 2 min after deploy v1\.4\.3-web1 on web-1$/m);
    assert.match(
      web2.text,
      /^Deploy: +firing 3 min after deploy v1\.4\.2$/m,
      "the web-1 marker is not web-2's",
    );
    assert.match(
      search.text,
      /^Deploy: +firing 3 min after deploy v1\.4\.2$/m,
      'no instance label: the global one',
    );
    assert.deepEqual(web2.alert.metadata.deploy, {
      id: (await m.store.deployments.latestByVersion('v1.4.2'))!.id,
      version: 'v1.4.2',
      instance: null,
      at: T0 + 10_000,
    });
    // The same words on the dashboard's alert view.
    const open = await m.store.alerts.listOpen();
    const alert = open.find((a) => a.labels.instance === 'web-2')!;
    const page = await m.http.inject({
      method: 'GET',
      url: `/production/dashboard/alerts/${alert.id}`,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      /<dt>Deploy<\/dt><dd><span class="deploy-note" data-deploy="v1.4.2">firing 3 min after deploy v1.4.2<\/span>/,
    );
    const list = await m.http.inject({
      method: 'GET',
      url: '/production/dashboard/alerts',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.match(list.body, /firing 2 min after deploy v1\.4\.3-web1 on web-1/);
  });

  test('an alert firing past the window after the last deploy names none', async () => {
    await clock.advance(30 * MIN); // T0 + 33 min 10 s: 32 min after the web-1 marker
    slow('/cart');
    await m.alerting.evaluateNow();
    const cart = await waitFor(() => fired().get('cart_slow|'), {
      timeout: 20_000,
      what: 'the firing of cart_slow at the webhook',
    });
    assert.doesNotMatch(cart!.text, /Deploy:|after deploy/);
    assert.equal(cart!.alert.metadata.deploy, undefined);
  });
});
