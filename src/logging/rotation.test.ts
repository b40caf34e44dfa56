import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { tempDir } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import { logsConfig, readParsed, readStream } from './fixtures/read.js';
import { createProductionLogger } from './logger.js';
import { attachLogPort } from './port.js';

// Workers do not inherit tsx's `--import` hooks on Node 20: the fixture is loaded through tsx's API.
const FIXTURE = new URL('./fixtures/port-writer.ts', import.meta.url).href;
const WORKER_BOOT = `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(FIXTURE)}, ${JSON.stringify(import.meta.url)}));`;

const dirs: { cleanup(): void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});
function dir(): string {
  const d = tempDir('prodmon-logs-');
  dirs.push(d);
  return d.path;
}

/** Asserts each `writer:seq` appears exactly once, in order per writer, and counts them. */
function assertExactlyOnce(lines: Record<string, unknown>[], writers: string[], perWriter: number): void {
  const next = new Map(writers.map((w) => [w, 0]));
  for (const l of lines) {
    const w = String(l.writer);
    const expected = next.get(w);
    assert.notEqual(expected, undefined, `unknown writer ${w}`);
    assert.equal(
      l.seq,
      expected,
      `writer ${w}: expected seq ${expected}, found ${l.seq} (lost, repeated or out of order)`,
    );
    next.set(w, expected! + 1);
  }
  for (const [w, n] of next) assert.equal(n, perWriter, `writer ${w} has ${n} of ${perWriter} lines`);
  assert.equal(lines.length, writers.length * perWriter);
}

describe('rotation under concurrent writers', () => {
  test('200,000 lines from 8 concurrent writers across 1 MB rotations: each line once, in order, none torn', async () => {
    const d = dir();
    const clock = new FakeClock();
    const logger = createProductionLogger({ dir: d, config: logsConfig({ max_size: '1MB' }), clock });
    const writers = Array.from({ length: 8 }, (_, i) => `w${i}`);
    const perWriter = 25_000;
    await Promise.all(
      writers.map(async (writer, w) => {
        for (let seq = 0; seq < perWriter; seq++) {
          // Lines of varying length (and some multi-byte text) so rotation points fall anywhere.
          logger.app.info({ writer, seq, pad: 'é'.repeat((seq * 7 + w) % 40) }, 'line');
          if (seq % 97 === w) await tick();
          if (seq % 5000 === 0) clock.set(clock.now() + 1);
        }
      }),
    );
    await logger.close();
    assert.equal(logger.status().status, 'healthy');
    assert.equal(logger.status().dropped, 0);

    const files = await readStream(d, 'application');
    const rotated = files.slice(0, -1);
    assert.ok(rotated.length >= 20, `expected 20+ rotations, got ${rotated.length}`);
    for (const f of rotated) {
      assert.match(f.name, /^application\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.\d+\.log\.gz$/);
      assert.ok(f.bytes <= 1024 * 1024, `${f.name} has ${f.bytes} bytes, over the 1 MB limit`);
      assert.ok(f.bytes > 900 * 1024, `${f.name} has only ${f.bytes} bytes: rotated too early`);
    }
    // No uncompressed or temporary leftovers once close() has waited for compression.
    assert.deepEqual(
      readdirSync(d).filter(
        (n) => n.startsWith('application') && !n.endsWith('.gz') && n !== 'application.log',
      ),
      [],
    );
    assertExactlyOnce(await readParsed(d, 'application'), writers, perWriter);
  });

  test('worker threads writing through the owner logger, beside in-process writers: each line once', async () => {
    const d = dir();
    const logger = createProductionLogger({
      dir: d,
      config: logsConfig({ max_size: '256KB' }),
      clock: new FakeClock(),
    });
    const perWriter = 10_000;
    const workers = Array.from({ length: 4 }, (_, i) => {
      const worker = new Worker(WORKER_BOOT, {
        eval: true,
        workerData: { writer: `thread${i}`, lines: perWriter },
      });
      attachLogPort(logger, worker);
      return new Promise<void>((resolve, reject) => {
        worker.on('message', (m: { done?: string }) => {
          if (m.done) void worker.terminate().then(() => resolve());
        });
        worker.on('error', reject);
      });
    });
    const local = ['main0', 'main1'].map(async (writer) => {
      for (let seq = 0; seq < perWriter; seq++) {
        logger.app.info({ writer, seq, pad: 'y'.repeat(seq % 30) }, 'line');
        if (seq % 200 === 0) await tick();
      }
    });
    await Promise.all([...workers, ...local]);
    await logger.close();
    const lines = await readParsed(d, 'application');
    assertExactlyOnce(lines, ['thread0', 'thread1', 'thread2', 'thread3', 'main0', 'main1'], perWriter);
    assert.ok((await readStream(d, 'application')).length > 10, 'expected rotations during the run');
  });
});
