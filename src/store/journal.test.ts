import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { tempDir } from '../../test/support/services.js';
import { crc32, crc32Table, Journal, RECORD_HEADER_BYTES, SEGMENT_MAGIC } from './journal.js';

/** A log that keeps its lines. */
function lines(): { warn: (o: object, m: string) => void; said: string[] } {
  const said: string[] = [];
  return { warn: (_o, m) => said.push(m), said };
}

const payload = (i: number, size = 100) => Buffer.alloc(size, i % 251);
const replayed = (j: Journal) => [...j.replay()].map((r) => [r.segment, r.payload.toString('hex')] as const);

describe('journal', () => {
  let dir: { path: string; cleanup: () => void };
  beforeEach(() => {
    dir = tempDir('prodmon-journal-');
  });
  afterEach(() => dir.cleanup());

  test('records read back in order across segments, by a later process, each in the segment it was written to', () => {
    const j = new Journal({ dir: dir.path, segmentBytes: 1000 });
    assert.deepEqual(readdirSync(dir.path), [], 'nothing on disk before the first record');
    const written: [number, string][] = [];
    for (let i = 0; i < 30; i++) {
      const p = payload(i, 50 + i * 7);
      written.push([j.append([p.subarray(0, 10), p.subarray(10)]), p.toString('hex')]);
    }
    j.rotate();
    written.push([j.append([payload(99)]), payload(99).toString('hex')]);
    // no close(): as a process that was killed leaves it
    const segments = new Set(written.map(([s]) => s));
    assert.ok(segments.size > 3, `rotated by size (${segments.size} segments)`);
    assert.equal(readdirSync(dir.path).length, segments.size);
    for (const f of readdirSync(dir.path)) {
      assert.match(f, /^\d{16}\.journal$/);
      assert.ok(readFileSync(join(dir.path, f)).subarray(0, 8).equals(SEGMENT_MAGIC));
    }

    const log = lines();
    const again = new Journal({ dir: dir.path, log });
    assert.deepEqual(replayed(again), written);
    assert.deepEqual(log.said, []);
    assert.ok(again.segment > Math.max(...segments), 'a later process appends to a segment of its own');
    assert.equal(
      again.bytes,
      readdirSync(dir.path).reduce((a, f) => a + statSync(join(dir.path, f)).size, 0),
    );
  });

  test('retireThrough deletes closed segments up to a number, never the one being written', () => {
    const j = new Journal({ dir: dir.path });
    const a = j.append([payload(1)]);
    j.rotate();
    const b = j.append([payload(2)]);
    j.rotate();
    const c = j.append([payload(3)]);
    assert.deepEqual([a + 1, b + 1], [b, c]);
    j.retireThrough(b);
    assert.deepEqual(j.segments(), [c]);
    j.retireThrough(c);
    assert.deepEqual(j.segments(), [c], 'the open segment stays');
    j.close();
    j.retireThrough(c);
    assert.deepEqual(j.segments(), []);
    assert.deepEqual(readdirSync(dir.path), []);
    assert.throws(() => j.append([payload(4)]), /journal closed/);
  });

  test('a torn last record (the process stopped while writing it) is dropped with a log line, the records before it kept', () => {
    const j = new Journal({ dir: dir.path });
    const seg = j.append([payload(1)]);
    j.append([payload(2)]);
    j.append([payload(3, 5000)]);
    const file = join(dir.path, `${String(seg).padStart(16, '0')}.journal`);
    // Cut inside the last record's payload, as a write interrupted by SIGKILL or a power loss leaves it.
    truncateSync(file, statSync(file).size - 1234);
    const log = lines();
    const back = replayed(new Journal({ dir: dir.path, log }));
    assert.deepEqual(
      back.map(([, hex]) => hex),
      [payload(1).toString('hex'), payload(2).toString('hex')],
    );
    assert.equal(log.said.length, 1);
    assert.match(
      log.said[0]!,
      /dropped a torn record at the end of .*\.journal \(3774 bytes at offset \d+\)/,
    );

    // Torn inside the header of the record (fewer than its 8 bytes) too.
    truncateSync(file, SEGMENT_MAGIC.length + 2 * (RECORD_HEADER_BYTES + 100) + 3);
    const log2 = lines();
    assert.equal(replayed(new Journal({ dir: dir.path, log: log2 })).length, 2);
    assert.match(log2.said[0]!, /torn record/);
  });

  test('a damaged record is dropped with the rest of its segment, never applied in part; later segments are read', () => {
    const j = new Journal({ dir: dir.path });
    const seg = j.append([payload(1)]);
    j.append([payload(2)]);
    j.append([payload(3)]);
    j.rotate();
    j.append([payload(4)]);
    j.close();
    const file = join(dir.path, `${String(seg).padStart(16, '0')}.journal`);
    const bytes = readFileSync(file);
    const second = SEGMENT_MAGIC.length + RECORD_HEADER_BYTES + 100; // where the second record starts
    bytes[second + RECORD_HEADER_BYTES + 50]! ^= 0xff; // one bit of its payload flipped
    writeFileSync(file, bytes);
    const log = lines();
    const back = replayed(new Journal({ dir: dir.path, log }));
    assert.deepEqual(
      back.map(([, hex]) => hex),
      [payload(1).toString('hex'), payload(4).toString('hex')],
    );
    assert.match(
      log.said[0]!,
      /dropped a damaged record of .* and the rest of the segment \(\d+ bytes from offset \d+: checksum mismatch\)/,
    );

    // Zeros where a record should be (a file extended but never written) are damage too, not empty records.
    appendFileSync(join(dir.path, `${String(seg + 1).padStart(16, '0')}.journal`), Buffer.alloc(64));
    const log2 = lines();
    assert.equal(replayed(new Journal({ dir: dir.path, log: log2 })).length, 2);
    assert.match(log2.said[1]!, /a length of 0/);
  });

  test('a file that is not a segment is left alone and named', () => {
    const j = new Journal({ dir: dir.path });
    j.append([payload(1)]);
    j.close();
    writeFileSync(join(dir.path, '0000000000000000.journal'), 'not a journal');
    writeFileSync(join(dir.path, 'notes.txt'), 'ignored: not a segment name');
    const log = lines();
    assert.equal(replayed(new Journal({ dir: dir.path, log })).length, 1);
    assert.match(log.said[0]!, /is not a journal segment/);
  });

  test('the checksum is CRC-32 as zlib computes it, with or without zlib.crc32', () => {
    const data = Buffer.from('prodmon journal record ☃'.repeat(50));
    const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
    assert.equal(crc32Table(Buffer.alloc(0)), 0);
    assert.equal(crc32Table(Buffer.from('123456789')), 0xcbf43926, 'the CRC-32 check value');
    assert.equal(crc32(data), crc32Table(data));
    if (native) assert.equal(native(data), crc32Table(data));
  });
});
