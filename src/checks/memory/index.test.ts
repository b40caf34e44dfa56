import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkFrom } from '../../../test/support/health.js';
import { tempDir } from '../../../test/support/services.js';
import { cgroupMemory } from './cgroup.js';

const dir = tempDir();
after(() => dir.cleanup());

function tree(files: Record<string, string>): string {
  const root = join(dir.path, `cg${Math.random().toString(36).slice(2)}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('cgroup memory', () => {
  test("v2: the process cgroup's memory.max and memory.current, less inactive file cache", async () => {
    const root = tree({
      'app.slice/memory.max': '1073741824\n',
      'app.slice/memory.current': '536870912\n',
      'app.slice/memory.stat': 'anon 400000000\ninactive_file 100000000\nactive_file 5\n',
    });
    assert.deepEqual(await cgroupMemory(root, '0::/app.slice\n'), {
      version: 2,
      limitBytes: 1073741824,
      usedBytes: 436870912,
    });
  });

  test('v2 "max" is no limit', async () => {
    const root = tree({ 'memory.max': 'max\n', 'memory.current': '1000\n' });
    assert.equal(await cgroupMemory(root, '0::/\n'), null);
  });

  test('v1: memory.limit_in_bytes; a huge limit (2^63) is no limit', async () => {
    const root = tree({
      'memory/memory.limit_in_bytes': '2147483648\n',
      'memory/memory.usage_in_bytes': '1073741824\n',
      'memory/memory.stat': 'cache 10\ntotal_inactive_file 73741824\n',
    });
    assert.deepEqual(await cgroupMemory(root, '4:memory:/docker/abc\n0::/\n'), {
      version: 1,
      limitBytes: 2147483648,
      usedBytes: 1000000000,
    });
    const unlimited = tree({
      'memory/memory.limit_in_bytes': '9223372036854771712\n',
      'memory/memory.usage_in_bytes': '1000\n',
    });
    assert.equal(await cgroupMemory(unlimited, '4:memory:/\n'), null);
  });

  test('no cgroup files at all is no limit', async () => {
    assert.equal(await cgroupMemory(join(dir.path, 'nothing'), ''), null);
  });
});

describe('memory check', () => {
  test('reports system memory with the process RSS and heap, against memory_usage', async () => {
    const r = await checkFrom({ name: 'mem', kind: 'memory' }).run();
    assert.equal(r.status, 'healthy', r.error ?? '');
    assert.ok(Number(r.details.usedPercent) > 0 && Number(r.details.usedPercent) < 100);
    const p = r.details.process as { rssBytes: number; heapUsedBytes: number; heapLimitBytes: number };
    assert.ok(p.rssBytes > 0 && p.heapUsedBytes > 0 && p.heapLimitBytes > p.heapUsedBytes);
    assert.deepEqual(r.details.thresholds, { warning: 80, critical: 95 });
  });

  test('a cgroup limit is what used % is measured against', async () => {
    const root = tree({
      'memory.max': String(1024 ** 3),
      'memory.current': String(0.97 * 1024 ** 3),
      'memory.stat': 'inactive_file 0\n',
    });
    // The fake mount has no /proc/self/cgroup path under it: the namespace root is read.
    const r = await checkFrom({ name: 'mem', kind: 'memory', cgroup_root: root }).run();
    assert.equal(r.details.scope, 'cgroup v2');
    assert.equal(r.details.usedPercent, 97);
    assert.equal(r.status, 'unhealthy');
    assert.match(r.error ?? '', /^memory 97% used \(993 MB of 1\.0 GB, cgroup v2; critical threshold 95%\)$/);
  });
});
