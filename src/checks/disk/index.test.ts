import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkFrom } from '../../../test/support/health.js';
import { tempDir } from '../../../test/support/services.js';
import { diskFigures } from './index.js';

const dir = tempDir();
after(() => dir.cleanup());

describe('disk check', () => {
  test('reports used % and free bytes per path, like df', async () => {
    const { run } = checkFrom({ name: 'disk', kind: 'disk', paths: [dir.path] });
    const r = await run();
    const [p] = r.details.paths as {
      path: string;
      usedPercent: number;
      freeBytes: number;
      totalBytes: number;
    }[];
    assert.equal(p!.path, dir.path);
    assert.ok(p!.usedPercent > 0 && p!.usedPercent < 100);
    assert.ok(p!.freeBytes > 0 && p!.totalBytes > p!.freeBytes);
    assert.deepEqual(r.details.thresholds, { warning: 85, critical: 95 }, 'the disk_usage thresholds');
  });

  test('thresholds come from alerting.thresholds.disk_usage unless the check sets its own', async () => {
    const used = (await diskFigures(dir.path)).usedPercent;
    const degraded = await checkFrom(
      { name: 'disk', kind: 'disk', paths: [dir.path] },
      { config: { alerting: { thresholds: { disk_usage: { warning: used - 1, critical: 100 } } } } },
    ).run();
    assert.equal(degraded.status, 'degraded');
    assert.match(
      degraded.error ?? '',
      new RegExp(`is ${used}% full, .* free \\(warning threshold ${used - 1}%\\)`),
    );
    const unhealthy = await checkFrom({
      name: 'disk',
      kind: 'disk',
      paths: [dir.path],
      thresholds: { warning: 0, critical: used - 1 },
    }).run();
    assert.equal(unhealthy.status, 'unhealthy');
    assert.match(unhealthy.error ?? '', /critical threshold/);
  });

  test('a path not created yet is measured on its nearest existing parent', async () => {
    const f = await diskFigures(join(dir.path, 'not', 'yet'));
    assert.equal(f.measured, dir.path);
  });

  test('the worst path wins', async () => {
    const used = (await diskFigures(dir.path)).usedPercent;
    const r = await checkFrom({
      name: 'disk',
      kind: 'disk',
      paths: [dir.path, '/'],
      thresholds: { warning: Math.min(used, (await diskFigures('/')).usedPercent) - 0.5, critical: 100 },
    }).run();
    assert.equal(r.status, 'degraded');
    assert.equal((r.details.paths as unknown[]).length, 2);
  });
});
