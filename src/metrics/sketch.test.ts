import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  binsRange,
  type CompactStore,
  decodeSketch,
  emptySketch,
  encodeSketch,
  newSketch,
  releaseBins,
  SKETCH_ACCURACY,
  SketchSum,
  sketchAdd,
  sketchMerge,
  sketchQuantile,
  sketchSnapshot,
} from './sketch.js';
import { EncodeArena } from './sketch-proto.js';

/** A seeded PRNG (mulberry32), so a failure can be reproduced. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DISTRIBUTIONS: Record<string, (r: () => number) => number> = {
  // latencies: log-normal around 40 ms with a long tail
  lognormal: (r) =>
    Math.exp(Math.log(40) + 0.9 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
  uniform: (r) => 1 + r() * 999,
  // heavy tail: Pareto with alpha 1.5, from 0.2 ms
  pareto: (r) => 0.2 / (1 - r()) ** (1 / 1.5),
};

/** The exact value at quantile q with the sketch's rank convention (rank = q * (n - 1), lower). */
function exact(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function relErr(got: number | null, want: number): number {
  assert.notEqual(got, null);
  return Math.abs(got! - want) / want;
}

describe('sketch', () => {
  for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
    test(`p50/p95/p99 of 100,000 ${name} samples are within 1 % of the exact values`, () => {
      const r = rng(42);
      const values = Array.from({ length: 100_000 }, () => draw(r));
      const s = newSketch();
      for (const v of values) sketchAdd(s, v);
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of [0.5, 0.95, 0.99]) {
        const err = relErr(sketchQuantile(s, q), exact(sorted, q));
        assert.ok(err <= SKETCH_ACCURACY, `${name} q=${q}: relative error ${err}`);
      }
    });
  }

  test('merging the sketches of two halves gives the quantiles of the whole, within 1 %', () => {
    const r = rng(7);
    const values = Array.from({ length: 100_000 }, () => DISTRIBUTIONS.lognormal!(r));
    const whole = newSketch();
    const a = newSketch();
    const b = newSketch();
    values.forEach((v, i) => {
      sketchAdd(whole, v);
      sketchAdd(i % 2 ? a : b, v);
    });
    const merged = emptySketch();
    sketchMerge(merged, a);
    sketchMerge(merged, b);
    assert.equal(merged.count, whole.count);
    const sorted = [...values].sort((x, y) => x - y);
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const m = sketchQuantile(merged, q)!;
      const w = sketchQuantile(whole, q)!;
      assert.ok(relErr(m, exact(sorted, q)) <= SKETCH_ACCURACY, `merged q=${q}`);
      // Same bins, same counts: the merged sketch answers exactly like the whole one.
      assert.ok(Math.abs(m - w) / w < 1e-12, `merged ${m} vs whole ${w} at q=${q}`);
    }
  });

  test('a sketch survives the protobuf round trip with the same count and quantiles', () => {
    const r = rng(3);
    const s = newSketch();
    for (let i = 0; i < 10_000; i++) sketchAdd(s, DISTRIBUTIONS.pareto!(r));
    sketchAdd(s, 0);
    const bytes = encodeSketch(s);
    assert.ok(Buffer.isBuffer(bytes) && bytes.length > 0);
    const back = decodeSketch(bytes);
    assert.equal(back.count, s.count);
    for (const q of [0, 0.5, 0.9, 0.99, 1]) {
      const got = sketchQuantile(back, q)!;
      const want = sketchQuantile(s, q)!;
      // The mapping's gamma goes through a float on the wire: equal up to rounding.
      assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, want), `q=${q}: ${got} vs ${want}`);
    }
  });

  test('a recording sketch keeps memory bounded over any range, collapsing the lowest values only', () => {
    const s = newSketch();
    const r = rng(11);
    const values: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const v = 10 ** (r() * 18 - 6); // 1e-6 .. 1e12: far more bins than the limit
      values.push(v);
      sketchAdd(s, v);
    }
    const store = s.store as unknown as CompactStore;
    assert.ok(store.length() <= 2048, `bins ${store.length()}`);
    assert.ok(store.isCollapsed);
    assert.equal(store.count, 50_000);
    const sorted = values.sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      assert.ok(relErr(sketchQuantile(s, q), exact(sorted, q)) <= SKETCH_ACCURACY, `q=${q}`);
    }
  });

  test('a compact store answers like the library’s dense store for the same values', () => {
    const r = rng(5);
    const compact = newSketch();
    const dense = emptySketch();
    for (let i = 0; i < 20_000; i++) {
      const v = DISTRIBUTIONS.pareto!(r);
      sketchAdd(compact, v);
      sketchAdd(dense, v);
    }
    for (const q of [0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999])
      assert.equal(sketchQuantile(compact, q), sketchQuantile(dense, q));
    const into = newSketch();
    into.merge(dense);
    assert.equal(into.count, dense.count);
    assert.equal(sketchQuantile(into, 0.9), sketchQuantile(dense, 0.9));
  });

  test('a sketch with its bins reserved records in place and encodes like one that grew them', () => {
    const r = rng(7);
    const values = Array.from({ length: 5000 }, () => DISTRIBUTIONS.lognormal!(r));
    const grown = newSketch();
    const arrays = new Set<Uint32Array>();
    for (const v of values) {
      sketchAdd(grown, v);
      arrays.add((grown.store as unknown as CompactStore).bins);
    }
    // growing one in 32-bin steps took several arrays: the cost a reservation saves
    assert.ok(arrays.size >= 5, `grown through ${arrays.size} arrays`);
    const [from, length] = binsRange(grown);
    const reserved = newSketch(from, length);
    const before = (reserved.store as unknown as CompactStore).bins;
    assert.equal(before.length, length);
    for (const v of values) sketchAdd(reserved, v);
    assert.equal((reserved.store as unknown as CompactStore).bins, before, 'no new array');
    assert.deepEqual(encodeSketch(reserved), encodeSketch(grown));
    // a value outside the reserved range still lands (the store grows as before)
    sketchAdd(reserved, 1e9);
    assert.equal(sketchQuantile(reserved, 1), sketchQuantile(decodeSketch(encodeSketch(reserved)), 1));
    assert.ok(relErr(sketchQuantile(reserved, 1), 1e9) <= SKETCH_ACCURACY);
  });

  test('released bins serve a new sketch, cleared, and it encodes like a fresh one', () => {
    const r = rng(11);
    const first = newSketch();
    for (let i = 0; i < 3000; i++) sketchAdd(first, DISTRIBUTIONS.lognormal!(r));
    const [from, length] = binsRange(first);
    const bins = releaseBins(first);
    assert.ok(bins instanceof Uint32Array && bins.length === length);
    assert.equal(first.count, 0, 'the released sketch is left empty');
    assert.equal(releaseBins(first), null, 'nothing left to release');
    const values = Array.from({ length: 2000 }, () => DISTRIBUTIONS.lognormal!(r) * 1.5);
    const reused = newSketch(from, length, bins);
    assert.equal((reused.store as unknown as CompactStore).bins, bins, 'the same array');
    const fresh = newSketch();
    for (const v of values) {
      sketchAdd(reused, v);
      sketchAdd(fresh, v);
    }
    assert.deepEqual(encodeSketch(reused), encodeSketch(fresh), 'no count of the earlier sketch left');
    // a spare shorter than the range wanted is not used
    const short = new Uint32Array(8);
    assert.notEqual((newSketch(from, length, short).store as unknown as CompactStore).bins, short);
  });

  test('a snapshot keeps its counts while the sketch it copies goes on, and after its bins are reused', () => {
    const r = rng(12);
    const live = newSketch();
    const values = Array.from({ length: 4000 }, () => DISTRIBUTIONS.lognormal!(r));
    for (const v of values) sketchAdd(live, v);
    const snap = sketchSnapshot(live);
    const expected = [0.5, 0.9, 0.99].map((q) => sketchQuantile(live, q));
    assert.deepEqual(encodeSketch(snap), encodeSketch(live));
    assert.equal(snap.count, live.count);
    for (let i = 0; i < 4000; i++) sketchAdd(live, 900 + i);
    const [from, length] = binsRange(live);
    const bins = releaseBins(live)!;
    const next = newSketch(from, length, bins);
    assert.equal((next.store as unknown as CompactStore).bins, bins);
    for (let i = 0; i < 3000; i++) sketchAdd(next, 20 + (i % 50));
    assert.deepEqual(
      [0.5, 0.9, 0.99].map((q) => sketchQuantile(snap, q)),
      expected,
    );
    assert.equal(snap.count, 4000);
  });

  test('sketches encoded one after the other into an arena read back as encoded alone, across its growth', () => {
    const r = rng(13);
    const arena = new EncodeArena(1024);
    const sketches = Array.from({ length: 60 }, (_, i) => {
      const s = newSketch();
      for (let k = 0; k < 200 + i * 10; k++) sketchAdd(s, DISTRIBUTIONS.lognormal!(r) * (i + 1));
      return s;
    });
    const first = arena.buf;
    const views = sketches.map((s) => encodeSketch(s, arena));
    assert.notEqual(arena.buf, first, 'the arena grew');
    assert.deepEqual(
      views,
      sketches.map((s) => encodeSketch(s)),
    );
    // after a reset the same memory serves again
    arena.reset();
    const buf = arena.buf;
    const again = encodeSketch(sketches[0]!, arena);
    assert.equal(again.buffer, buf.buffer);
    assert.deepEqual(again, encodeSketch(sketches[0]!));
  });

  test('a sum of sketches added, taken out and added again answers as the library merging what is left', () => {
    const r = rng(9);
    const parts = Array.from({ length: 12 }, (_v, i) => {
      const s = newSketch();
      for (let j = 0; j < 50 + 40 * i; j++) sketchAdd(s, DISTRIBUTIONS.lognormal!(r) * (1 + (i % 3)));
      return s;
    });
    const sum = new SketchSum();
    // Bytes (stored rows), recording sketches and decoded ones (sums of sums) go in by their bins.
    parts.forEach((p, i) => {
      if (i % 3 === 0) sum.addBytes(encodeSketch(p));
      else if (i % 3 === 1) sum.addSketch(p);
      else sum.addSketch(decodeSketch(encodeSketch(p)));
    });
    // Replaced versions: the first four taken out again.
    for (const p of parts.slice(0, 4)) assert.equal(sum.addBytes(encodeSketch(p), -1), true);
    const want = emptySketch();
    for (const p of parts.slice(4)) sketchMerge(want, p);
    const got = sum.snapshot()!;
    assert.equal(got.count, want.count);
    for (const q of [0.01, 0.5, 0.9, 0.95, 0.99, 1])
      assert.equal(sketchQuantile(got, q), sketchQuantile(want, q), `q=${q}`);
    // The snapshot is a copy: the sum goes on without changing it.
    sum.addBytes(encodeSketch(parts[0]!));
    assert.equal(got.count, want.count);
    assert.equal(sum.snapshot()!.count, want.count + parts[0]!.count);
    // Everything taken out leaves nothing.
    const one = new SketchSum();
    one.addBytes(encodeSketch(parts[5]!));
    one.addBytes(encodeSketch(parts[5]!), -1);
    assert.equal(one.snapshot(), null);
  });

  test('a sum added to another (addSum) or copied (clone) counts as its snapshot would', () => {
    const r = rng(21);
    const parts = Array.from({ length: 6 }, (_v, i) => {
      const s = newSketch();
      for (let j = 0; j < 80 + 30 * i; j++) sketchAdd(s, DISTRIBUTIONS.pareto!(r) * (1 + i));
      return s;
    });
    const live = new SketchSum();
    for (const p of parts) live.addBytes(encodeSketch(p));
    for (const p of parts.slice(0, 2)) live.addBytes(encodeSketch(p), -1); // rounding residue left behind
    const into = new SketchSum();
    into.addSketch(parts[5]!);
    const copy = into.clone();
    into.addSum(live);
    copy.addSketch(live.snapshot()!);
    const want = emptySketch();
    for (const p of [...parts.slice(2), parts[5]!]) sketchMerge(want, p);
    for (const got of [into.toSketch()!, copy.toSketch()!]) {
      assert.equal(got.count, want.count);
      for (const q of [0.01, 0.5, 0.9, 0.99, 1])
        assert.equal(sketchQuantile(got, q), sketchQuantile(want, q), `q=${q}`);
    }
    // The clone went its own way: the sum it was copied from did not get what it got.
    const before = new SketchSum();
    before.addSketch(parts[0]!);
    const other = before.clone();
    other.addSketch(parts[1]!);
    assert.equal(before.snapshot()!.count, parts[0]!.count);
    assert.equal(other.snapshot()!.count, parts[0]!.count + parts[1]!.count);
  });

  test('quantiles are clamped to the exact min and max when given', () => {
    const s = newSketch();
    for (const v of [10, 10, 10, 10]) sketchAdd(s, v);
    assert.equal(sketchQuantile(s, 0.99, 10, 10), 10);
    assert.equal(sketchQuantile(newSketch(), 0.5), null);
  });

  test('negative values count as zero', () => {
    const s = newSketch();
    sketchAdd(s, -5);
    assert.equal(s.count, 1);
    assert.equal(sketchQuantile(s, 0.5), 0);
  });

  test('bytes that are not a sketch, or a sketch of another accuracy, are refused', () => {
    assert.throws(() => decodeSketch(Buffer.from('not a sketch at all')), /DDSketch|accuracy/);
    assert.throws(() => decodeSketch(Buffer.alloc(0)), /DDSketch|accuracy/);
  });
});
