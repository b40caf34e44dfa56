/**
 * The agent (`prodmon/agent`): an Express app instrumented by it, pushing over loopback to a real
 * standalone monitor, which stores, reads and summarizes what the app served; its options checked by
 * hand; and its module graph free of the packages that make a whole monitor heavy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { closeServer, listenLocal } from '../test/support/http-load.js';
import { tempDir } from '../test/support/services.js';
import { type Agent, ConfigError, createAgent } from './agent.js';
import { type App, createApp } from './app.js';
import { FakeClock } from './core/clock.js';
import { UNMATCHED } from './instrument/track.js';
import { AGENT_OPTIONS } from './metrics/agent-options.js';
import { METRIC } from './metrics/names.js';
import { PUSH_ROWS_TYPE } from './metrics/push-rows.js';
import { readPushRows } from './metrics/push-rows-read.js';
import { MINUTE_MS } from './metrics/rollup.js';

const PUSH = 'agent-push-token-0123456789';

function get(base: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(`${base}${path}`, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

describe('agent', () => {
  const dir = tempDir();
  let monitor: App;
  let monitorBase: string;

  before(async () => {
    monitor = createApp(
      {
        data_dir: dir.path,
        logs: { stdout: false },
        instance: 'monitor',
        auth: { tokens: [{ name: 'agents', token: PUSH, role: 'push' }] },
      },
      { env: {}, fileLogs: false },
    );
    await monitor.start();
    monitorBase = await monitor.listen('127.0.0.1', 0);
  });
  after(async () => {
    await monitor.stop({ drainDelayMs: 0 });
    dir.cleanup();
  });

  test('an Express app measured by the agent shows up in the standalone monitor, without the global fetch', async () => {
    const realFetch = globalThis.fetch;
    let fetches = 0;
    globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
      fetches++;
      return realFetch(...args);
    }) as typeof fetch;
    let agent: Agent | null = null;
    const app = express();
    app.set('env', 'test'); // Express's final handler would print the thrown error
    try {
      agent = createAgent({ instance: 'web-1', push: { url: monitorBase, token: PUSH } });
      agent.start();
      app.use(agent.middleware());
      app.get('/products/:id', (_req, res) => {
        res.send('ok');
      });
      app.get('/boom', () => {
        throw new Error('boom');
      });
      app.use(agent.errorHandler());
      const server = app.listen(0, '127.0.0.1');
      const base = await listenLocal(server);
      try {
        for (let i = 0; i < 20; i++) assert.equal(await get(base, `/products/${i}`), 200);
        assert.equal(await get(base, '/boom'), 500);
        assert.equal(await get(base, '/nowhere'), 404);
        await agent.timeQuery({ db: 'shop', operation: 'select' }, async () => {});
      } finally {
        await closeServer(server);
      }
      await agent.stop(); // flushes and pushes what is left
      assert.equal(agent.pusher!.buffered, 0);
      assert.ok(agent.pusher!.sent >= 3, `rows sent: ${agent.pusher!.sent}`);
    } finally {
      globalThis.fetch = realFetch;
      if (agent) await agent.stop();
    }
    assert.equal(fetches, 0, 'the push goes through node:http, never the global fetch');

    const now = Date.now();
    const rows = await monitor.store.rollups.query({
      metrics: [METRIC.httpRequest],
      resolution: MINUTE_MS,
      since: now - 5 * MINUTE_MS,
      until: now + MINUTE_MS,
    });
    const byRoute = new Map<string, { count: number; errors: number; instance: string }>();
    for (const r of rows) {
      const l = JSON.parse(r.labels) as { route: string; status_class: string };
      const k = `${l.route} ${l.status_class}`;
      const prev = byRoute.get(k);
      byRoute.set(k, {
        count: (prev?.count ?? 0) + r.count,
        errors: (prev?.errors ?? 0) + r.errors,
        instance: r.instance,
      });
    }
    assert.deepEqual(Object.fromEntries(byRoute), {
      '/products/:id 2xx': { count: 20, errors: 0, instance: 'web-1' },
      '/boom 5xx': { count: 1, errors: 1, instance: 'web-1' },
      [`${UNMATCHED} 4xx`]: { count: 1, errors: 0, instance: 'web-1' },
    });
    const summary = await monitor.metrics.performanceSummary({ since: now - 5 * MINUTE_MS, until: now + 1 });
    assert.deepEqual([summary.overall.count, summary.overall.errors], [22, 1]);
    assert.equal(summary.queries.overall.count, 1);
  });

  test('an unreachable standalone: the failure is reported once, the rows wait and are delivered later', async () => {
    // a port nothing listens on (a server opened and closed)
    const gone = createServer();
    const goneBase = await listenLocal(gone);
    await closeServer(gone);
    const clock = new FakeClock(Date.now());
    const warnings: string[] = [];
    const log = { warn: (o: object, m: string) => warnings.push(`${m} ${JSON.stringify(o)}`), error() {} };
    const agent = createAgent(
      { instance: 'web-2', flush_interval: '1s', push: { url: goneBase, token: PUSH, interval: '1s' } },
      { clock, log },
    );
    agent.start();
    try {
      agent.record(METRIC.httpRequest, { route: '/late', method: 'GET', status_class: '2xx' }, 12);
      for (let i = 0; i < 5; i++) await clock.advance(1000); // five flush and push rounds, all failing
      assert.ok(agent.pusher!.failures >= 4, `failures: ${agent.pusher!.failures}`);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /metrics push failed; will retry .*ECONNREFUSED/);
      // the request's row waits (a real GC during the test may add a gc-pause row beside it)
      assert.ok(agent.pusher!.buffered >= 1, `buffered: ${agent.pusher!.buffered}`);
      // the standalone comes back on its address: the next round delivers what waited
      const port = Number(new URL(goneBase).port);
      const bodies: { type: string | undefined; body: Buffer }[] = [];
      const back = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          bodies.push({ type: req.headers['content-type'], body: Buffer.concat(chunks) });
          res.end('{}');
        });
      });
      await new Promise<void>((r) => back.listen(port, '127.0.0.1', r));
      try {
        for (let i = 0; i < 50 && agent.pusher!.buffered > 0; i++) await clock.advance(1000);
        assert.equal(agent.pusher!.buffered, 0);
        // the binary body (src/metrics/push-rows.ts), as a hub reads and checks it
        assert.ok(bodies.length > 0 && bodies.every((b) => b.type === PUSH_ROWS_TYPE));
        const rows = (
          await Promise.all(bodies.map((b) => readPushRows(Buffer.from(b.body)).rows(clock.now())))
        ).flat();
        assert.ok(rows.every((r) => r.instance === 'web-2'));
        assert.ok(
          rows.some((r) => JSON.parse(r.labels).route === '/late'),
          rows.map((r) => r.labels).join('\n'),
        );
      } finally {
        await closeServer(back);
      }
    } finally {
      await agent.stop();
    }
  });

  test('bad options are refused with every problem named', () => {
    assert.throws(
      () =>
        createAgent({
          push: { url: 'ftp://monitor', token: '', interval: 'soon' },
          max_series: 5,
          flush_interval: '5ms',
          error_statuses: '4xx' as '5xx',
          instance: 'web 1',
          colour: 'blue',
        } as never),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const fields = err.problems.map((p) => p.split(': ')[1]);
        assert.deepEqual(fields.sort(), [
          'colour',
          'error_statuses',
          'flush_interval',
          'instance',
          'max_series',
          'push.interval',
          'push.token',
          'push.url',
        ]);
        assert.match(err.message, /push\.url: expected an http\(s\) URL .*got "ftp:\/\/monitor"/);
        return true;
      },
    );
    // Durations follow the config's rule: a unit is required, and the metrics section's bounds hold.
    assert.throws(
      () =>
        createAgent({
          push: { url: 'http://m:9464', token: PUSH, interval: 10 as never },
          sample_interval: '10m',
          max_buffered_rows: 2_000_000,
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems, [
          'createAgent options: push.interval: 10 has no unit; write "10s" (or "10ms")',
          'createAgent options: max_buffered_rows: expected a whole number from 100 to 1000000, got 2000000',
          'createAgent options: sample_interval: must be at most 5m, got "10m"',
        ]);
        return true;
      },
    );
    assert.throws(() => createAgent({} as never), /push: expected an object \{ url, token \}, got undefined/);
    assert.throws(
      () => createAgent({ push: { url: 'http://m:9464', token: 12345678 } } as never),
      (err: unknown) =>
        err instanceof ConfigError &&
        /push\.token: .*got number$/.test(err.message) &&
        !/12345678/.test(err.message),
    );
  });

  test('its module graph holds none of the packages of a whole monitor', async () => {
    // esbuild is tsx's own dependency; it follows every static and dynamic import of the agent
    const esbuild = (await import('esbuild' as string)) as {
      build(o: Record<string, unknown>): Promise<{
        metafile: { inputs: Record<string, { imports: { path: string; external?: boolean }[] }> };
      }>;
    };
    const out = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('./agent.ts', import.meta.url))],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      metafile: true,
      logLevel: 'error',
    });
    const packages = new Set<string>();
    for (const input of Object.values(out.metafile.inputs)) {
      for (const i of input.imports) {
        if (i.external && !i.path.startsWith('node:')) packages.add(i.path);
      }
    }
    assert.deepEqual([...packages], ['@datadog/sketches-js']);
    const files = Object.keys(out.metafile.inputs);
    assert.ok(files.some((f) => f.endsWith('src/instrument/express.ts')));
    assert.ok(
      !files.some((f) => /src\/(config|store|metrics\/prometheus|metrics\/wire)\b/.test(f)),
      files.join('\n'),
    );
  });

  test('docs/metrics.md documents every option', () => {
    const doc = readFileSync(new URL('../docs/metrics.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## The agent'));
    const table = section.slice(
      section.indexOf('| option |'),
      section.indexOf('\n\n', section.indexOf('| option |')),
    );
    const documented = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(documented, [...AGENT_OPTIONS]);
  });
});
