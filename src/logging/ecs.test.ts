/** `logs.format: ecs`: Elastic Common Schema lines on all four files, still redacted, and read back. */
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import { logsConfig, readParsed } from './fixtures/read.js';
import { formatLogLine } from './format.js';
import { createProductionLogger } from './logger.js';
import { tailLogs } from './query.js';
import { logRequestTiming } from './timing.js';

const dirs: { cleanup(): void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});
function dir(): string {
  const d = tempDir('prodmon-ecs-');
  dirs.push(d);
  return d.path;
}

const T = Date.UTC(2026, 10, 26, 10, 0, 0);
const CONFIG_SECRET = 'cfg-Secret-9f8e7d6c';
type Line = Record<string, unknown> & { error?: Record<string, unknown> };

/** Logs one request through a real HTTP server on loopback; the handler writes its timing line. */
async function requestLine(
  onRequest: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void,
) {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.setHeader('content-length', '2');
    res.statusCode = 201;
    res.end('ok', () => onRequest(req, res));
  });
  try {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/orders/42?access_token=tok-abcdef123&page=2',
          headers: {
            authorization: 'Bearer very-secret-bearer',
            cookie: 'sid=s3ss10n',
            'user-agent': 'ecs-test/1',
            'x-request-id': 'rq-7',
          },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end();
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('ECS log lines (logs.format: ecs)', () => {
  test('all four files carry the ECS fields; errors become error.*, requests http.* and url.*', async () => {
    const d = dir();
    const clock = new FakeClock(T);
    const logger = createProductionLogger({
      dir: d,
      config: logsConfig({ format: 'ecs', service_name: 'shop-api' }),
      clock,
      secrets: [CONFIG_SECRET],
    });
    const child = logger.child({ reqId: 'r-1' });
    child.app.info({ order: 42 }, 'order placed');
    child.security.warn({ user: 'ann' }, 'sign-in failed');
    const boom = new TypeError('cannot reach postgres://shop:pw-123456@db/shop');
    child.error.error({ err: boom, job: 'rollup' }, 'job failed');
    await requestLine((req, res) => {
      clock.set(T + 5);
      logRequestTiming(
        child,
        { method: 'POST', route: '/orders/:id', status: 201, durationMs: 12.5, req, res },
        { sampleRate: 0, force: true },
      );
    });
    await logger.close();

    const files = {
      application: await readParsed(d, 'application'),
      error: await readParsed(d, 'error'),
      performance: await readParsed(d, 'performance'),
      security: await readParsed(d, 'security'),
    };
    for (const [stream, lines] of Object.entries(files) as [string, Line[]][]) {
      assert.equal(lines.length, 1, stream);
      const l = lines[0]!;
      assert.match(String(l['@timestamp']), /^2026-11-26T10:00:00\.00[05]Z$/, stream);
      assert.equal(typeof l['log.level'], 'string', stream);
      assert.equal(typeof l.message, 'string', stream);
      assert.match(String(l['ecs.version']), /^\d+\.\d+\.\d+$/, stream);
      assert.equal(l['service.name'], 'shop-api', stream);
      assert.equal(l['event.dataset'], `shop-api.${stream}`, stream);
      assert.equal(l['log.logger'], stream, stream);
      assert.equal(l['process.pid'], process.pid, stream);
      assert.equal(typeof l['host.hostname'], 'string', stream);
      assert.equal(l.reqId, 'r-1', stream);
      for (const pinoKey of ['time', 'level', 'msg', 'pid', 'hostname', 'stream', 'err'])
        assert.ok(!(pinoKey in l), `${stream}: no pino field ${pinoKey}`);
    }
    const [app] = files.application as Line[];
    assert.deepEqual([app!['log.level'], app!.message, app!.order], ['info', 'order placed', 42]);
    assert.deepEqual(
      [files.security[0]!['log.level'], files.security[0]!.message],
      ['warn', 'sign-in failed'],
    );

    const [err] = files.error as Line[];
    assert.deepEqual([err!['log.level'], err!.message, err!.job], ['error', 'job failed', 'rollup']);
    assert.equal(err!.error!.type, 'TypeError');
    assert.equal(err!.error!.message, 'cannot reach postgres://shop:***@db/shop');
    assert.match(
      String(err!.error!.stack_trace),
      /^TypeError: cannot reach postgres:\/\/shop:\*\*\*@db\/shop\n\s+at /,
    );

    const [req] = files.performance as Line[];
    assert.equal(req!['@timestamp'], new Date(T + 5).toISOString());
    assert.deepEqual([req!.message, req!.kind, req!.durationMs], ['POST /orders/:id 201', 'request', 12.5]);
    const http = req!.http as {
      version: string;
      request: { method: string; id: string; headers: Record<string, string> };
      response: { status_code: number; body: { bytes: number } };
    };
    assert.equal(http.version, '1.1');
    assert.equal(http.request.method, 'POST');
    assert.equal(http.request.id, 'rq-7');
    assert.equal(http.response.status_code, 201);
    assert.equal(http.response.body.bytes, 2);
    const url = req!.url as { path: string; query: string; full: string };
    assert.equal(url.path, '/orders/42');
    assert.equal(url.query, 'access_token=***&page=2');
    assert.match(url.full, /^http:\/\/127\.0\.0\.1:\d+\/orders\/42\?access_token=\*\*\*&page=2$/);
    assert.equal((req!.client as { ip: string }).ip, '127.0.0.1');
    assert.equal((req!.user_agent as { original: string }).original, 'ecs-test/1');
    // Redaction applies to the converted fields: headers, query, error text.
    assert.equal(http.request.headers.authorization, '[REDACTED]');
    assert.equal(http.request.headers.cookie, '[REDACTED]');
    const text = JSON.stringify(files);
    for (const secret of ['very-secret-bearer', 's3ss10n', 'tok-abcdef123', 'pw-123456'])
      assert.ok(!text.includes(secret), `${secret} was written`);
  });

  test('secret-named keys, config secrets and secrets in messages are redacted in ECS lines too', async () => {
    const d = dir();
    const logger = createProductionLogger({
      dir: d,
      config: logsConfig({ format: 'ecs', redact: ['ssn'] }),
      clock: new FakeClock(T),
      secrets: [CONFIG_SECRET],
    });
    logger
      .child({ apiKey: 'child-key-123' })
      .app.info(
        { password: 'hunter2', nested: [{ ssn: '123-45-6789', note: `uses ${CONFIG_SECRET}` }] },
        `login with password=hunter2 and ${CONFIG_SECRET}`,
      );
    logger.security.error(new Error(`token leak ${CONFIG_SECRET} Bearer abcdefghijkl`));
    await logger.close();
    const [line] = await readParsed(d, 'application');
    assert.equal(line!.apiKey, '[REDACTED]');
    assert.equal(line!.password, '[REDACTED]');
    assert.deepEqual(line!.nested, [{ ssn: '[REDACTED]', note: 'uses ***' }]);
    assert.equal(line!.message, 'login with password=*** and ***');
    assert.equal(line!['service.name'], 'prodmon', 'the default service name');
    const [sec] = await readParsed(d, 'security');
    assert.equal(sec!.message, 'token leak *** Bearer ***');
    assert.equal((sec!.error as { message: string }).message, 'token leak *** Bearer ***');
    const text = JSON.stringify([line, sec, ...(await readParsed(d, 'error'))]);
    for (const secret of ['hunter2', 'child-key-123', '123-45-6789', CONFIG_SECRET, 'abcdefghijkl'])
      assert.ok(!text.includes(secret), `${secret} was written`);
  });

  test('the default format stays pino JSON; ECS lines read back with time, level and msg', async () => {
    assert.equal(logsConfig().format, 'json');
    const d = dir();
    const clock = new FakeClock(T);
    const logger = createProductionLogger({ dir: d, config: logsConfig({ format: 'ecs' }), clock });
    logger.app.info({ order: 1 }, 'first');
    clock.set(T + 60_000);
    logger.app.warn({ order: 2 }, 'second');
    await logger.close();
    const lines = await tailLogs({ dir: d, since: T + 30_000 });
    assert.equal(lines.length, 1);
    const [l] = lines;
    assert.deepEqual(
      [l!.time, l!.level, l!.msg, l!.stream, l!.order],
      [T + 60_000, 40, 'second', 'application', 2],
    );
    assert.ok(!('@timestamp' in l!) && !('message' in l!));
    assert.equal(formatLogLine(l!), '2026-11-26T10:01:00.000Z WARN  second {"order":2}');
  });
});
