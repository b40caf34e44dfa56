import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { FixedSystemSource } from '../../test/support/metrics.js';
import { FakeClock } from '../core/clock.js';
import { METRIC } from './names.js';
import { Recorder } from './recorder.js';
import { SystemSampler } from './sampler.js';
import { diskUsage, NodeSystemSource } from './system-source.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

describe('system sampler', () => {
  test('records one reading every sample interval on the clock, and GC pauses as they come', async () => {
    const clock = new FakeClock(T0);
    const recorder = new Recorder({ clock, instance: 'i1', maxSeries: 100 });
    const source = new FixedSystemSource();
    const errors: unknown[] = [];
    const sampler = new SystemSampler({
      clock,
      recorder,
      source,
      intervalMs: 10_000,
      diskPaths: ['/data'],
      onError: (e) => errors.push(e),
    });
    sampler.start();
    assert.ok(source.started);
    const count = (metric: string, labels: Record<string, string> = {}) =>
      recorder.series(metric, labels).totalCount;
    await clock.advance(9_999);
    assert.equal(count(METRIC.cpu, { scope: 'host' }), 0, 'no sample before the first interval');
    await clock.advance(1);
    source.reading = { ...source.reading, cpuHostPercent: null };
    await clock.advance(10_000);
    assert.equal(count(METRIC.cpu, { scope: 'host' }), 1, 'a figure not available is not recorded');
    assert.equal(count(METRIC.cpu, { scope: 'process' }), 2);
    assert.equal(count(METRIC.memory), 2);
    assert.equal(count(METRIC.disk, { path: '/data' }), 2);
    assert.equal(recorder.series(METRIC.diskFree, { path: '/data' }).last, 30e9);
    assert.equal(recorder.series(METRIC.eventLoopLag, {}).last, 12);
    source.gc!(3.5);
    assert.equal(recorder.series(METRIC.gcPause, {}).last, 3.5);
    await sampler.stop();
    assert.equal(source.started, false);
    await clock.advance(60_000);
    assert.equal(count(METRIC.memory), 2, 'no samples after stop');
    assert.deepEqual(errors, []);
  });

  test('the Node source reads plausible figures of this host and process', async () => {
    const source = new NodeSystemSource();
    const pauses: number[] = [];
    source.start((ms) => pauses.push(ms));
    await delay(25); // the delay monitor measures from its first tick on
    // burn CPU and allocate for a while, so there is something to measure (and to collect)
    const until = performance.now() + 150;
    let junk: unknown[] = [];
    while (performance.now() < until) {
      junk.push({ a: Math.random(), b: 'x'.repeat(64) });
      if (junk.length > 50_000) junk = [];
    }
    await delay(30);
    const r = await source.read([tmpdir(), join(tmpdir(), 'no', 'such', 'dir')]);
    source.stop();
    assert.ok(
      r.cpuHostPercent !== null && r.cpuHostPercent > 0 && r.cpuHostPercent <= 100,
      `host ${r.cpuHostPercent}`,
    );
    assert.ok(r.cpuProcessPercent !== null && r.cpuProcessPercent > 0 && r.cpuProcessPercent <= 100);
    assert.ok(r.memoryPercent !== null && r.memoryPercent > 0 && r.memoryPercent < 100);
    assert.ok(r.rssBytes > 10e6 && r.heapUsedBytes > 1e6);
    assert.equal(r.disks.length, 2, 'a missing directory is measured on the file system that would hold it');
    for (const d of r.disks) assert.ok(d.usedPercent >= 0 && d.usedPercent <= 100 && d.freeBytes > 0);
    assert.ok(
      r.eventLoopUtilizationPercent !== null && r.eventLoopUtilizationPercent > 50,
      'the loop was busy',
    );
    assert.ok(r.eventLoopLagMs !== null && r.eventLoopLagMs >= 100, `lag ${r.eventLoopLagMs}`);
    assert.ok(pauses.length > 0 && pauses.every((p) => p >= 0), 'GC pauses observed');
  });

  test('disk usage of an unreadable path is null, not a crash', async () => {
    assert.equal(await diskUsage('\0bad'), null);
  });
});
