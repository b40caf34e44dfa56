import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import { logsConfig, readParsed, readStream } from './fixtures/read.js';
import { createProductionLogger, createSilentLogger } from './logger.js';
import { logRequestTiming } from './timing.js';

const dirs: { cleanup(): void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});
function dir(): string {
  const d = tempDir('prodmon-logs-');
  dirs.push(d);
  return d.path;
}
const msgs = (lines: Record<string, unknown>[]) => lines.map((l) => l.msg);

describe('ProductionLogger', () => {
  test('each stream writes its own file; error-level lines of any stream also go to error.log', async () => {
    const d = dir();
    const logger = createProductionLogger({ dir: d, config: logsConfig(), clock: new FakeClock() });
    logger.app.info('app info');
    logger.app.error('app error');
    logger.performance.info('perf info');
    logger.performance.fatal('perf fatal');
    logger.security.warn('security warn');
    logger.security.error('security error');
    logger.error.warn('error-stream warn');
    await logger.close();
    assert.deepEqual(msgs(await readParsed(d, 'application')), ['app info', 'app error']);
    assert.deepEqual(msgs(await readParsed(d, 'performance')), ['perf info', 'perf fatal']);
    assert.deepEqual(msgs(await readParsed(d, 'security')), ['security warn', 'security error']);
    const errors = await readParsed(d, 'error');
    assert.deepEqual(msgs(errors), ['app error', 'perf fatal', 'security error', 'error-stream warn']);
    assert.deepEqual(
      errors.map((l) => l.stream),
      ['application', 'performance', 'security', 'error'],
    );
  });

  test('lines carry the clock time; children carry their bindings on all four streams, grandchildren too', async () => {
    const d = dir();
    const clock = new FakeClock(Date.UTC(2026, 10, 26, 10, 0, 0));
    const logger = createProductionLogger({ dir: d, config: logsConfig(), clock });
    const child = logger.child({ reqId: 'r-1' });
    const grandchild = child.child({ user: 7 });
    child.app.info('a');
    child.performance.info('p');
    child.security.info('s');
    child.error.error('e');
    grandchild.app.info('g');
    await logger.close();
    const app = await readParsed(d, 'application');
    assert.deepEqual(
      app.map((l) => [l.msg, l.reqId, l.user, l.time]),
      [
        ['a', 'r-1', undefined, clock.now()],
        ['g', 'r-1', 7, clock.now()],
      ],
    );
    for (const stream of ['performance', 'security', 'error'] as const) {
      assert.equal((await readParsed(d, stream))[0]!.reqId, 'r-1', stream);
    }
  });

  test('the level applies to application and error; security and performance keep info and above', async () => {
    const d = dir();
    const logger = createProductionLogger({
      dir: d,
      config: logsConfig({ level: 'warn' }),
      clock: new FakeClock(),
    });
    logger.app.info('dropped by level');
    logger.app.warn('kept');
    logger.security.info('token used');
    logger.performance.info('timing');
    logger.security.debug('not kept');
    await logger.close();
    assert.deepEqual(msgs(await readParsed(d, 'application')), ['kept']);
    assert.deepEqual(msgs(await readParsed(d, 'security')), ['token used']);
    assert.deepEqual(msgs(await readParsed(d, 'performance')), ['timing']);
  });

  test('request timing goes to performance.log when forced or sampled, not otherwise', async () => {
    const d = dir();
    const logger = createProductionLogger({ dir: d, config: logsConfig(), clock: new FakeClock() });
    const timing = (n: number) => ({ method: 'GET', route: '/orders/:id', status: 200, durationMs: n });
    const draws = [0.05, 0.5];
    const random = () => draws.shift()!;
    assert.equal(logRequestTiming(logger, timing(1), { sampleRate: 0 }), false);
    assert.equal(logRequestTiming(logger, timing(2), { sampleRate: 0, force: true }), true);
    assert.equal(logRequestTiming(logger, timing(3), { sampleRate: 0.1, random }), true);
    assert.equal(logRequestTiming(logger, timing(4), { sampleRate: 0.1, random }), false);
    assert.equal(logRequestTiming(logger, timing(5), { sampleRate: 1 }), true);
    await logger.close();
    const perf = await readParsed(d, 'performance');
    assert.deepEqual(
      perf.map((l) => l.durationMs),
      [2, 3, 5],
    );
    assert.equal(perf[0]!.msg, 'GET /orders/:id 200');
    assert.equal(perf[0]!.route, '/orders/:id');
    assert.deepEqual(await readParsed(d, 'application'), []);
  });

  test('rotates at the first line of a new UTC day, and the rotated name sorts by time', async () => {
    const d = dir();
    const clock = new FakeClock(Date.UTC(2026, 10, 26, 23, 59, 0));
    const logger = createProductionLogger({ dir: d, config: logsConfig({ gzip: false }), clock });
    logger.app.info('day one');
    await logger.flush();
    clock.set(Date.UTC(2026, 10, 27, 0, 0, 1));
    logger.app.info('day two');
    await logger.close();
    const files = await readStream(d, 'application');
    assert.deepEqual(
      files.map((f) => [f.name, f.lines.length]),
      [
        ['application.2026-11-27T00-00-01-000Z.1.log', 1],
        ['application.log', 1],
      ],
    );
    assert.match(files[0]!.lines[0]!, /day one/);
    assert.match(files[1]!.lines[0]!, /day two/);
  });

  test('a restart on a later day rotates the previous day’s live file before writing', async () => {
    const d = dir();
    const clock = new FakeClock(Date.UTC(2026, 10, 26, 12, 0, 0));
    const first = createProductionLogger({ dir: d, config: logsConfig(), clock });
    first.app.info('before restart');
    await first.close();
    clock.set(Date.UTC(2026, 10, 28, 9, 0, 0));
    const second = createProductionLogger({ dir: d, config: logsConfig(), clock });
    second.app.info('after restart');
    await second.close();
    const files = await readStream(d, 'application');
    assert.deepEqual(
      files.map((f) => f.name),
      ['application.2026-11-28T09-00-00-000Z.1.log.gz', 'application.log'],
    );
    assert.match(files[0]!.lines[0]!, /before restart/);
  });

  test('a line cut short by a crash is ended on start, so the next line stands alone', async () => {
    const d = dir();
    writeFileSync(
      join(d, 'application.log'),
      '{"level":30,"time":1,"msg":"whole"}\n{"level":30,"time":2,"msg":"cut sh',
    );
    const logger = createProductionLogger({
      dir: d,
      config: logsConfig({ daily: false }),
      clock: new FakeClock(),
    });
    logger.app.info('next');
    await logger.close();
    const lines = readFileSync(join(d, 'application.log'), 'utf8').split('\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[1], '{"level":30,"time":2,"msg":"cut sh');
    assert.equal(JSON.parse(lines[2]!).msg, 'next');
    assert.equal(lines[3], '');
  });

  test('lines logged after close are counted as dropped, and nothing throws', async () => {
    const d = dir();
    const logger = createProductionLogger({ dir: d, config: logsConfig(), clock: new FakeClock() });
    logger.app.info('before');
    await logger.close();
    logger.app.info('after');
    logger.security.error('after');
    assert.equal(logger.status().dropped, 2);
    await logger.close();
    assert.deepEqual(msgs(await readParsed(d, 'application')), ['before']);
  });

  test('the silent logger writes nothing anywhere and is always healthy', async () => {
    const d = dir();
    const logger = createSilentLogger();
    logger.app.error('x');
    logger.child({ a: 1 }).security.fatal('y');
    await logger.flush();
    await logger.close();
    assert.deepEqual(logger.status(), { status: 'healthy', error: null, since: null, dropped: 0 });
    assert.deepEqual(readdirSync(d), []);
    assert.equal(existsSync(join(process.cwd(), 'application.log')), false);
  });
});
