/**
 * Quantile sketches: DDSketch (1 % relative accuracy) from @datadog/sketches-js, with the few things the
 * library leaves out: values clamped to >= 0, quantiles clamped to the exact min/max, a merge that also
 * accepts decoded sketches, and a protobuf round trip that checks the mapping.
 */
import { DDSketch } from '@datadog/sketches-js';
import {
  type EncodeArena,
  type ProtoBins,
  readSketchProto,
  scanSketchProto,
  writeSketchProto,
} from './sketch-proto.js';

/** The relative accuracy of every sketch prodmon keeps (1 %). */
export const SKETCH_ACCURACY = 0.01;
/** Bins a sketch keeps before collapsing its lowest ones: memory stays bounded whatever the values. */
export const SKETCH_BIN_LIMIT = 2048;

/** A DDSketch (any store); the library's classes share this shape. */
export type Sketch = DDSketch;

const REFERENCE = new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });

/** What a DDSketch store holds: contiguous bin counts from `offset`, keys `minKey..maxKey` in use. */
interface BinsLike {
  bins: ArrayLike<number>;
  offset: number;
  minKey: number;
  maxKey: number;
  count: number;
}

/** The bins of an empty store: never written (the first add replaces it), so one serves every store. */
const NO_BINS = new Uint32Array(0);

/**
 * A collapsing-lowest dense store with 32-bit counts grown in small chunks: the library's store keeps
 * counts as 8-byte numbers grown 128 at a time, which is most of a recorder's memory. Same layout
 * (`bins` from `offset`), so the library's stores can merge or copy from it; only recording uses it.
 */
export class CompactStore implements BinsLike {
  /** Shared by every store until its first add (a negative store of durations never has one). */
  bins: Uint32Array = NO_BINS;
  offset = 0;
  minKey = Number.POSITIVE_INFINITY;
  maxKey = Number.NEGATIVE_INFINITY;
  count = 0;
  isCollapsed = false;

  constructor(
    readonly binLimit = SKETCH_BIN_LIMIT,
    readonly chunkSize = 32,
  ) {}

  /** Adds `weight` to the bin of `key` (whole numbers only). */
  add(key: number, weight = 1): void {
    if (key < this.minKey || key > this.maxKey) this.#extend(key, key);
    const i = key < this.offset ? 0 : key - this.offset; // keys below a collapsed range go to the lowest bin
    this.bins[i] = this.bins[i]! + weight;
    this.count += weight;
  }

  /**
   * Allocates bins for keys `from..from + length - 1` ahead of the first add (nothing once it has
   * counts): a series' new minute reserves the range its previous minute grew to, so recording it
   * allocates one array instead of growing one in steps (about ten per series-minute for log-normal
   * latencies), each step an allocation and a copy, and a freed block left to the allocator.
   */
  reserve(from: number, length: number, spare: Uint32Array | null = null): void {
    if (this.count > 0 || !(length > 0)) return;
    const wanted = Math.min(length, this.binLimit);
    if (spare !== null && spare.length >= wanted && spare.length <= this.binLimit) {
      spare.fill(0);
      this.bins = spare;
    } else {
      this.bins = new Uint32Array(wanted);
    }
    this.offset = from;
  }

  /**
   * Gives up the bins array (the store is left empty): a series hands the bins of a minute that is
   * written and forgotten to its next minute (see `Series.recycle`). Null when the store has none.
   */
  release(): Uint32Array | null {
    const bins = this.bins;
    this.bins = NO_BINS;
    this.count = 0;
    this.minKey = Number.POSITIVE_INFINITY;
    this.maxKey = Number.NEGATIVE_INFINITY;
    this.isCollapsed = false;
    return bins === NO_BINS ? null : bins;
  }

  /** The key of the bin holding `rank` (as the library's DenseStore.keyAtRank). */
  keyAtRank(rank: number, lower = true): number {
    let running = 0;
    const bins = this.bins;
    for (let i = 0; i < bins.length; i++) {
      running += bins[i]!;
      if ((lower && running > rank) || (!lower && running >= rank + 1)) return i + this.offset;
    }
    return this.maxKey;
  }

  /** Adds every bin of another store. */
  merge(store: BinsLike): void {
    if (store.count === 0) return;
    for (let k = store.minKey; k <= store.maxKey; k++) {
      const c = store.bins[k - store.offset] ?? 0;
      if (c > 0) this.add(k, c);
    }
  }

  /** Replaces the contents with another store's. */
  copy(store: BinsLike): void {
    this.bins = NO_BINS;
    this.count = 0;
    this.minKey = Number.POSITIVE_INFINITY;
    this.maxKey = Number.NEGATIVE_INFINITY;
    this.isCollapsed = false;
    this.merge(store);
  }

  /** Number of bins allocated. */
  length(): number {
    return this.bins.length;
  }

  #extend(a: number, b: number): void {
    const lo = Math.min(a, this.minKey);
    const hi = Math.max(b, this.maxKey);
    if (this.bins.length > 0 && lo >= this.offset && hi < this.offset + this.bins.length) {
      this.minKey = lo;
      this.maxKey = hi;
      return;
    }
    const span = hi - lo + 1;
    const len = Math.min(Math.ceil(span / this.chunkSize) * this.chunkSize, this.binLimit);
    // Room on both sides when it fits; else keep the highest keys and collapse the lowest into bin 0.
    const offset = span <= len ? lo - Math.floor((len - span) / 2) : hi - len + 1;
    const next = new Uint32Array(len);
    for (let k = this.minKey; k <= this.maxKey; k++) {
      const c = this.bins[k - this.offset]!;
      if (c === 0) continue;
      const j = k < offset ? 0 : k - offset;
      next[j] = next[j]! + c;
    }
    if (span > len) this.isCollapsed = true;
    this.bins = next;
    this.offset = offset;
    this.minKey = Math.max(lo, offset);
    this.maxKey = hi;
  }
}

/**
 * A new, empty sketch with bounded, compact memory (for recording), with bins reserved for keys
 * `reserveFrom..reserveFrom + reserveLength - 1` (see `CompactStore.reserve`). Built as the decoded
 * ones are (`sketchOf`): the library's constructor would make a mapping and two stores per sketch,
 * kept (the mapping) or thrown away (the stores), for each series every minute.
 */
export function newSketch(reserveFrom = 0, reserveLength = 0, spare: Uint32Array | null = null): Sketch {
  const store = new CompactStore();
  store.reserve(reserveFrom, reserveLength, spare);
  return sketchOf(store as unknown as Sketch['store'], new CompactStore() as unknown as Sketch['store'], 0);
}

/** The range of bins a recording sketch's positive store holds: `[from, length]` (length 0: none). */
export function binsRange(sketch: Sketch): [number, number] {
  const store = sketch.store as unknown as CompactStore;
  return store instanceof CompactStore ? [store.offset, store.bins.length] : [0, 0];
}

/**
 * Takes the bins array of a recording sketch's positive store for reuse, leaving the sketch empty
 * (null when it has none, or is not a recording sketch). Only for a sketch nothing reads any more.
 */
export function releaseBins(sketch: Sketch): Uint32Array | null {
  const store = sketch.store as unknown as CompactStore;
  if (!(store instanceof CompactStore)) return null;
  const bins = store.release();
  sketch.count = sketch.negativeStore.count + sketch.zeroCount;
  return bins;
}

/**
 * A copy of a sketch whose counts live in V8's heap (plain arrays of the bins in use): what a bucket
 * that a read was handed keeps when its bins array goes on to a later minute of its series
 * (`Series.recycle`). Garbage of V8's own heap once the read is done, collected as such.
 */
export function sketchSnapshot(sketch: Sketch): Sketch {
  const copy = sketchOf(binsCopy(sketch.store), binsCopy(sketch.negativeStore), sketch.zeroCount);
  copy.min = sketch.min;
  copy.max = sketch.max;
  copy.sum = sketch.sum;
  return copy;
}

function binsCopy(store: Sketch['store']): Sketch['store'] {
  const s = store as unknown as BinsLike;
  const counts: number[] = [];
  if (s.count > 0) for (let k = s.minKey; k <= s.maxKey; k++) counts.push(s.bins[k - s.offset] ?? 0);
  return decodedStore({ offset: s.count > 0 ? s.minKey : 0, counts });
}

/** Adds a value (negative values, which no duration or ratio has, count as 0). */
export function sketchAdd(sketch: Sketch, value: number, weight = 1): void {
  // biome-ignore lint/complexity/useMathMinMax: NaN must become 0 too, which Math.max does not do
  sketch.accept(value > 0 ? value : 0, weight);
}

/** Merges `from` into `into` (both must use prodmon's accuracy). */
export function sketchMerge(into: Sketch, from: Sketch): void {
  if (from.count === 0) return;
  into.merge(from);
}

/**
 * The value at quantile `q` (0..1), or null when the sketch is empty. When the exact `min`/`max` are
 * known the answer is clamped to them, so p100 is the true max and a sketch never invents a value
 * beyond what was seen.
 */
export function sketchQuantile(sketch: Sketch, q: number, min?: number, max?: number): number | null {
  if (sketch.count <= 0) return null;
  let v = sketch.getValueAtQuantile(q);
  if (!Number.isFinite(v)) return null;
  if (min !== undefined && Number.isFinite(min) && v < min) v = min;
  if (max !== undefined && Number.isFinite(max) && v > max) v = max;
  return v;
}

/** Whether a sketch maps values as prodmon's do (logarithmic, no index offset). */
function isLogarithmic(sketch: Sketch): boolean {
  const m = sketch.mapping as unknown as { _offset?: number };
  return sketch.mapping.constructor === REFERENCE.mapping.constructor && m._offset === 0;
}

/**
 * Protobuf bytes of a sketch (the DDSketch wire format, only the bins from the lowest to the highest in
 * use); written into `arena` when given (see `EncodeArena`: the bytes are valid until its next reset).
 */
export function encodeSketch(sketch: Sketch, arena?: EncodeArena): Buffer {
  if (sketch.mapping.gamma === REFERENCE.mapping.gamma && isLogarithmic(sketch)) {
    return writeSketchProto(
      sketch.mapping.gamma,
      sketch.store as unknown as BinsLike,
      sketch.negativeStore as unknown as BinsLike,
      sketch.zeroCount,
      arena,
    );
  }
  let plain = sketch;
  if (sketch.store instanceof CompactStore) {
    plain = emptySketch(); // the library's stores serialize; a compact one is copied into one first
    plain.merge(sketch);
  }
  const bytes = plain.toProto();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A sketch from protobuf bytes; throws when the bytes are not a DDSketch or use another accuracy
 * (such a sketch could not be merged with prodmon's).
 */
export function decodeSketch(bytes: Uint8Array): Sketch {
  const fast = readSketchProto(bytes);
  if (fast && fast.gamma === REFERENCE.mapping.gamma) {
    const sketch = decodedSketch(fast.positive, fast.negative, fast.zeroCount);
    if (sketch.count >= 0) return sketch;
  }
  let sketch: Sketch;
  try {
    sketch = DDSketch.fromProto(bytes) as Sketch;
  } catch (err) {
    throw new Error(`not a DDSketch protobuf: ${(err as Error).message}`);
  }
  if (!sketch.mergeable(REFERENCE)) {
    throw new Error(`sketch accuracy differs from prodmon's ${SKETCH_ACCURACY * 100} %`);
  }
  if (!Number.isFinite(sketch.count) || sketch.count < 0) throw new Error('sketch has an invalid count');
  return sketch;
}

/**
 * The number of values a sketch's protobuf holds, with the checks of `decodeSketch` (a DDSketch, of
 * prodmon's accuracy, a valid count), read straight from the bytes for the usual shape: validating a
 * push of thousands of rows then builds no sketch per row. Throws as `decodeSketch` does.
 */
export function sketchBytesCount(bytes: Uint8Array): number {
  const l = scanSketchProto(bytes);
  if (l && l.gamma === REFERENCE.mapping.gamma) {
    let count = l.zeroCount;
    let valid = count >= 0;
    for (const s of [l.positive, l.negative]) {
      for (let i = 0, p = s.at; i < s.n; i++, p += 8) {
        const c = l.view.getFloat64(p, true);
        if (!(c >= 0)) valid = false;
        count += c;
      }
    }
    if (valid && Number.isFinite(count)) return count;
  }
  return decodeSketch(bytes).count;
}

type DenseStoreClass = new () => Sketch['store'];
const DenseStore = REFERENCE.store.constructor as DenseStoreClass;

/** A library store holding decoded bins (keys in use: all of them, as the library's decoder does). */
function decodedStore(bins: ProtoBins): Sketch['store'] {
  const store = new DenseStore();
  const s = store as unknown as BinsLike;
  let count = 0;
  const counts = bins.counts;
  for (let i = 0; i < counts.length; i++) count += counts[i]!; // (indexed: no iterator per read)
  s.bins = counts;
  s.offset = bins.offset;
  s.count = count;
  if (bins.counts.length > 0) {
    s.minKey = bins.offset;
    s.maxKey = bins.offset + bins.counts.length - 1;
  }
  return store;
}

/**
 * A sketch of decoded bins, as the library's decoder makes it (no min, max or sum: the rollup row has
 * them) but sharing prodmon's one mapping instead of building one per sketch: reading a week of
 * rollups decodes tens of thousands.
 */
function decodedSketch(positive: ProtoBins, negative: ProtoBins, zeroCount: number): Sketch {
  return sketchOf(decodedStore(positive), decodedStore(negative), zeroCount);
}

/**
 * A DDSketch of prodmon's mapping over the given stores, sharing the one mapping object (the library's
 * constructor builds one per sketch). The fields are set in the order the library's constructor sets
 * them, so recorded, decoded and library-built sketches share one shape.
 */
function sketchOf(store: Sketch['store'], negativeStore: Sketch['store'], zeroCount: number): Sketch {
  const sketch = Object.create(DDSketch.prototype) as Sketch;
  sketch.mapping = REFERENCE.mapping;
  sketch.store = store;
  sketch.negativeStore = negativeStore;
  sketch.zeroCount = zeroCount;
  sketch.count = negativeStore.count + zeroCount + store.count;
  sketch.min = Number.POSITIVE_INFINITY;
  sketch.max = Number.NEGATIVE_INFINITY;
  sketch.sum = 0;
  return sketch;
}

/** Counts within this of zero after additions and removals are zero (bins hold whole counts, or a part of one). */
const ROUNDING = 1e-6;

/**
 * The sum of many sketches, added straight from their stored bytes when they have the usual shape:
 * no decoded sketch per row, one loop over each row's bins. What reads and compaction use to merge
 * thousands of stored sketches; anything unusual is decoded and merged the library's way.
 */
export class SketchSum {
  /**
   * Counts by key from `#offset`. A plain array: a sum is made and copied per group at every
   * evaluation, and V8 allocates a typed array's memory outside its heap, at several times the cost.
   */
  #bins: number[] = [];
  /** Key of `#bins[0]`. */
  #offset = 0;
  #minKey = Number.POSITIVE_INFINITY;
  #maxKey = Number.NEGATIVE_INFINITY;
  #count = 0;
  #zeroCount = 0;
  /** Sketches with negative values or another encoding, merged the library's way. */
  #other: Sketch | null = null;

  /** Number of values added. */
  get count(): number {
    return this.#count + this.#zeroCount + (this.#other?.count ?? 0);
  }

  /**
   * Adds a stored sketch; returns false (adding nothing) when the bytes are not a sketch prodmon can
   * merge. With `sign` -1 it takes the sketch away again (a kept sum whose part was replaced by a newer
   * version of it): only for the usual shape, which is what a sum adds from bytes; false (taking away
   * nothing) for anything else, whose part the sum merged the library's way and cannot take out.
   */
  addBytes(bytes: Uint8Array, sign: 1 | -1 = 1): boolean {
    const l = scanSketchProto(bytes);
    if (!l || l.gamma !== REFERENCE.mapping.gamma || l.negative.n > 0) {
      if (sign < 0) return false;
      try {
        this.addSketch(decodeSketch(bytes));
        return true;
      } catch {
        return false;
      }
    }
    const { offset, at, n } = l.positive;
    let lo = offset;
    let hi = offset + n - 1;
    while (lo <= hi && !(l.view.getFloat64(at + 8 * (lo - offset), true) > 0)) lo++;
    while (hi >= lo && !(l.view.getFloat64(at + 8 * (hi - offset), true) > 0)) hi--;
    if (lo <= hi) {
      this.#reserve(lo, hi);
      const bins = this.#bins;
      const view = l.view;
      let added = 0;
      for (let k = lo, i = lo - this.#offset, p = at + 8 * (lo - offset); k <= hi; k++, i++, p += 8) {
        const c = sign * view.getFloat64(p, true);
        bins[i] = bins[i]! + c;
        added += c;
      }
      this.#count += added;
      if (lo < this.#minKey) this.#minKey = lo;
      if (hi > this.#maxKey) this.#maxKey = hi;
    }
    this.#zeroCount += sign * l.zeroCount;
    return true;
  }

  /**
   * The sum so far as a sketch of its own (the sum goes on being added to and taken from): counts that
   * additions and removals left a rounding error away from zero count as zero.
   */
  snapshot(): Sketch | null {
    // The bins from the first to the last above the rounding, copied into an array of that length.
    let lo = this.#minKey;
    let hi = this.#maxKey;
    const bins = this.#bins;
    const at = this.#offset;
    if (this.#count > ROUNDING) {
      while (lo <= hi && !((bins[lo - at] ?? 0) > ROUNDING)) lo++;
      while (hi >= lo && !((bins[hi - at] ?? 0) > ROUNDING)) hi--;
    } else {
      lo = 0;
      hi = -1;
    }
    const counts: number[] = new Array(Math.max(0, hi - lo + 1));
    let count = 0;
    for (let k = lo, i = 0; k <= hi; k++, i++) {
      const c = bins[k - at] ?? 0;
      const kept = c > ROUNDING ? c : 0;
      counts[i] = kept;
      count += kept;
    }
    const zero = this.#zeroCount > ROUNDING ? this.#zeroCount : 0;
    const other = this.#other;
    if (count + zero <= 0 && !other) return null;
    const sketch = decodedSketch(
      { offset: counts.length > 0 ? lo : 0, counts },
      { offset: 0, counts: [] },
      zero,
    );
    if (other && other.count > 0) sketch.merge(other);
    return sketch;
  }

  /**
   * Adds a decoded (or recording) sketch: its bins straight into the sum when it maps values as
   * prodmon's do and has no negative values (sums of sums, as reads of kept minutes make), else the
   * library's way.
   */
  addSketch(sketch: Sketch): void {
    if (sketch.count <= 0) return;
    const s = sketch.store as unknown as BinsLike;
    if (
      sketch.negativeStore.count === 0 &&
      sketch.mapping.gamma === REFERENCE.mapping.gamma &&
      isLogarithmic(sketch) &&
      !(s.count > 0 && s.minKey < s.offset) // (a collapsed store's lowest bin holds several keys)
    ) {
      if (s.count > 0) {
        this.#reserve(s.minKey, s.maxKey);
        const bins = this.#bins;
        let added = 0;
        for (let k = s.minKey, i = k - this.#offset; k <= s.maxKey; k++, i++) {
          const c = s.bins[k - s.offset] ?? 0;
          bins[i] = bins[i]! + c;
          added += c;
        }
        this.#count += added;
        if (s.minKey < this.#minKey) this.#minKey = s.minKey;
        if (s.maxKey > this.#maxKey) this.#maxKey = s.maxKey;
      }
      this.#zeroCount += sketch.zeroCount;
      return;
    }
    this.#other ??= emptySketch();
    sketchMerge(this.#other, sketch);
  }

  /** The sum as a sketch (null when nothing was added); call once, when everything is added. */
  toSketch(): Sketch | null {
    if (this.count <= 0) return null;
    const sketch = decodedSketch(
      { offset: this.#offset, counts: this.#bins },
      { offset: 0, counts: [] },
      this.#zeroCount,
    );
    const store = sketch.store as unknown as BinsLike;
    store.count = this.#count;
    store.minKey = this.#minKey;
    store.maxKey = this.#maxKey;
    if (this.#other) {
      const other = this.#other;
      this.#other = null;
      if (sketch.count <= 0) return other;
      sketch.merge(other);
    }
    return sketch;
  }

  /**
   * Adds what another sum holds now (as `snapshot` would give it: counts within the rounding of zero
   * count as zero), without making a sketch of it.
   */
  addSum(other: SketchSum): void {
    if (other.#count > ROUNDING) {
      const from = other.#bins;
      const at = other.#offset;
      let lo = other.#minKey;
      let hi = other.#maxKey;
      while (lo <= hi && !((from[lo - at] ?? 0) > ROUNDING)) lo++;
      while (hi >= lo && !((from[hi - at] ?? 0) > ROUNDING)) hi--;
      if (lo <= hi) {
        this.#reserve(lo, hi);
        const bins = this.#bins;
        let added = 0;
        for (let k = lo, i = lo - this.#offset; k <= hi; k++, i++) {
          const c = from[k - at] ?? 0;
          if (!(c > ROUNDING)) continue;
          bins[i] = bins[i]! + c;
          added += c;
        }
        this.#count += added;
        if (lo < this.#minKey) this.#minKey = lo;
        if (hi > this.#maxKey) this.#maxKey = hi;
      }
    }
    if (other.#zeroCount > ROUNDING) this.#zeroCount += other.#zeroCount;
    if (other.#other && other.#other.count > 0) {
      this.#other ??= emptySketch();
      sketchMerge(this.#other, other.#other);
    }
  }

  /** A sum of its own with what this one holds so far (either goes on being added to alone). */
  clone(): SketchSum {
    const c = new SketchSum();
    c.#bins = this.#bins.slice();
    c.#offset = this.#offset;
    c.#minKey = this.#minKey;
    c.#maxKey = this.#maxKey;
    c.#count = this.#count;
    c.#zeroCount = this.#zeroCount;
    if (this.#other) {
      c.#other = emptySketch();
      sketchMerge(c.#other, this.#other);
    }
    return c;
  }

  /** Makes room for keys lo..hi, with some to spare on the side that grew. */
  #reserve(lo: number, hi: number): void {
    const bins = this.#bins;
    const first = this.#offset;
    const last = first + bins.length - 1;
    if (bins.length > 0 && lo >= first && hi <= last) return;
    const from = bins.length === 0 ? lo - 16 : Math.min(first, lo - 32);
    const to = bins.length === 0 ? hi + 16 : Math.max(last, hi + 32);
    const next: number[] = new Array(to - from + 1).fill(0);
    for (let i = 0; i < bins.length; i++) next[i + first - from] = bins[i]!;
    this.#bins = next;
    this.#offset = from;
  }
}

/** An empty sketch for merging decoded sketches into (unbounded dense store, like the decoded ones). */
export function emptySketch(): Sketch {
  return new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });
}

/**
 * Multiplies every count of a decoded sketch by `factor` (in place): a row's shape weighted to a part
 * of its values, for folding the growth of a re-sent row (see src/metrics/admission.ts).
 */
export function scaleSketch(sketch: Sketch, factor: number): void {
  for (const store of [sketch.store, sketch.negativeStore]) {
    const s = store as unknown as BinsLike & { bins: number[] };
    for (let i = 0; i < s.bins.length; i++) s.bins[i] = s.bins[i]! * factor;
    s.count *= factor;
  }
  sketch.zeroCount *= factor;
  sketch.count *= factor;
}
