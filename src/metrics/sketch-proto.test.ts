import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DDSketch } from '@datadog/sketches-js';
import {
  decodeSketch,
  emptySketch,
  encodeSketch,
  newSketch,
  type Sketch,
  SketchSum,
  sketchAdd,
} from './sketch.js';
import { readSketchProto } from './sketch-proto.js';

/** A seeded Lehmer sequence in [0, 1), so a failure can be reproduced. */
function rng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

/** Key -> count of a store, zero bins left out. */
function bins(store: Sketch['store']): Map<number, number> {
  const out = new Map<number, number>();
  const s = store as unknown as { bins: ArrayLike<number>; offset: number; minKey: number; maxKey: number };
  for (let k = s.minKey; k <= s.maxKey; k++) {
    const c = s.bins[k - s.offset] ?? 0;
    if (c !== 0) out.set(k, c);
  }
  return out;
}

function assertSame(fast: Sketch, lib: Sketch): void {
  assert.equal(fast.count, lib.count);
  assert.equal(fast.zeroCount, lib.zeroCount);
  assert.deepEqual(bins(fast.store), bins(lib.store));
  assert.deepEqual(bins(fast.negativeStore), bins(lib.negativeStore));
  for (const q of [0, 0.01, 0.5, 0.9, 0.95, 0.99, 1]) {
    const a = fast.getValueAtQuantile(q);
    const b = lib.getValueAtQuantile(q);
    assert.ok(
      (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)),
      `q=${q}: ${a} vs ${b}`,
    );
  }
}

describe('sketch protobuf reader', () => {
  test('reads what prodmon writes exactly as the library does: recorded, merged, collapsed, empty, zeros', () => {
    const r = rng(9);
    const cases: Sketch[] = [];
    for (const n of [0, 1, 4, 240, 10_000]) {
      const s = newSketch();
      for (let i = 0; i < n; i++) sketchAdd(s, 5 + r() * 200);
      cases.push(s);
    }
    const zeros = newSketch();
    for (let i = 0; i < 7; i++) sketchAdd(zeros, i % 2 ? 0 : 3);
    cases.push(zeros);
    const wide = newSketch(); // 1e-6 .. 1e12: the recording store collapses its lowest bins
    for (let i = 0; i < 5000; i++) sketchAdd(wide, 10 ** (r() * 18 - 6));
    cases.push(wide);
    const merged = emptySketch();
    for (const s of cases) merged.merge(s);
    cases.push(merged);
    for (const s of cases) {
      const bytes = encodeSketch(s);
      assert.ok(readSketchProto(bytes), 'the fast path reads it');
      assertSame(decodeSketch(bytes), DDSketch.fromProto(bytes) as Sketch);
    }
  });

  test('negative bins (written by another producer) are read too', () => {
    const s = new DDSketch({ relativeAccuracy: 0.01 });
    for (const v of [-3, -3, -40, 0, 7, 7000]) s.accept(v);
    const bytes = s.toProto();
    assert.ok(readSketchProto(bytes));
    assertSame(decodeSketch(bytes), DDSketch.fromProto(bytes) as Sketch);
  });

  test('anything else is left to the library: damaged bytes, other accuracies, truncation', () => {
    const s = newSketch();
    for (let i = 1; i < 100; i++) sketchAdd(s, i);
    const bytes = encodeSketch(s);
    for (let cut = 0; cut < bytes.length; cut += 7) {
      const part = bytes.subarray(0, cut);
      // Whatever the reader makes of a prefix, it never throws; the decoder still refuses or reads it
      // exactly as the library would.
      readSketchProto(part);
      let lib: Sketch | Error;
      try {
        lib = decodeSketch(Buffer.from(part));
      } catch (err) {
        lib = err as Error;
      }
      if (!(lib instanceof Error) && readSketchProto(part)) {
        assertSame(lib, DDSketch.fromProto(part) as Sketch);
      }
    }
    assert.equal(readSketchProto(Buffer.from('not a sketch at all')), null);
    const other = new DDSketch({ relativeAccuracy: 0.02 });
    other.accept(10);
    const otherBytes = other.toProto();
    assert.notEqual(readSketchProto(otherBytes), null, 'well formed');
    assert.throws(() => decodeSketch(otherBytes), /accuracy/, 'but refused: it cannot merge with prodmon’s');
  });
});

describe('sketch protobuf writer', () => {
  test('writes only the bins in use, and the library reads back the same sketch', () => {
    const r = rng(4);
    for (const n of [0, 1, 4, 60, 5000]) {
      const s = newSketch();
      for (let i = 0; i < n; i++) sketchAdd(s, i % 9 === 0 ? 0 : 5 + r() * 200);
      const bytes = encodeSketch(s);
      const lib = DDSketch.fromProto(bytes) as Sketch;
      assert.equal(lib.count, n);
      assertSame(decodeSketch(bytes), lib);
      // the same values through the library's own writer (every allocated bin) answer the same
      const plain = emptySketch();
      plain.merge(s);
      assertSame(lib, DDSketch.fromProto(plain.toProto()) as Sketch);
      const p = readSketchProto(bytes)!;
      const used = [p.positive.counts[0], p.positive.counts.at(-1)];
      if (n > 1)
        assert.ok(
          used.every((c) => c! > 0),
          'no zero bin at either end',
        );
    }
    // A minute of a steady gauge: a few bins in use, far fewer bytes than every allocated bin.
    const gauge = newSketch();
    for (const v of [35, 36, 34.5, 35.2, 36.1, 35.8]) sketchAdd(gauge, v);
    const plain = emptySketch();
    plain.merge(gauge);
    assert.ok(encodeSketch(gauge).length * 4 < plain.toProto().length, `${encodeSketch(gauge).length} bytes`);
  });

  test('a merged sketch with negative values round-trips through both readers', () => {
    const s = new DDSketch({ relativeAccuracy: 0.01 });
    for (const v of [-3, -3, -40, 0, 7, 7000]) s.accept(v);
    const bytes = encodeSketch(s as Sketch);
    assertSame(decodeSketch(bytes), s as Sketch);
    assertSame(DDSketch.fromProto(bytes) as Sketch, s as Sketch);
  });
});

describe('sketch sum', () => {
  test('adding stored sketches from their bytes gives the sketch the library merge gives', () => {
    const r = rng(12);
    const merged = emptySketch();
    const sum = new SketchSum();
    for (let i = 0; i < 300; i++) {
      const s = newSketch();
      const n = i % 7 === 0 ? 0 : 1 + Math.floor(r() * 40);
      const scale = 10 ** (r() * 4 - 1); // sketches far apart: the sum grows on both sides
      for (let k = 0; k < n; k++) sketchAdd(s, k % 11 === 0 ? 0 : scale * (0.5 + r()));
      merged.merge(s);
      // every other one as the library writes it (every allocated bin), the others as prodmon does
      const plain = emptySketch();
      plain.merge(s);
      assert.equal(sum.addBytes(i % 2 ? encodeSketch(s) : plain.toProto()), true);
    }
    const live = newSketch(); // an in-memory bucket, added as a sketch
    for (let k = 1; k < 50; k++) sketchAdd(live, k * 3);
    merged.merge(live);
    sum.addSketch(live);
    assert.equal(sum.addBytes(Buffer.from('not a sketch')), false, 'unreadable: refused, nothing added');
    assert.equal(sum.count, merged.count);
    assertSame(sum.toSketch()!, merged);
    assert.equal(new SketchSum().toSketch(), null);
  });

  test('a sketch of another accuracy is refused; one with negative values is merged the library way', () => {
    const other = new DDSketch({ relativeAccuracy: 0.02 });
    other.accept(10);
    const sum = new SketchSum();
    assert.equal(sum.addBytes(other.toProto()), false);
    const neg = new DDSketch({ relativeAccuracy: 0.01 });
    for (const v of [-3, 5, 7]) neg.accept(v);
    assert.equal(sum.addBytes(neg.toProto()), true);
    assert.equal(sum.count, 3);
    assert.equal(sum.toSketch()!.count, 3);
  });
});
