/**
 * Quantile sketches: DDSketch (1 % relative accuracy) from @datadog/sketches-js, with the few things the
 * library leaves out: values clamped to >= 0, quantiles clamped to the exact min/max, a merge that also
 * accepts decoded sketches, and a protobuf round trip that checks the mapping.
 */
import { DDSketch } from '@datadog/sketches-js';

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

/**
 * A collapsing-lowest dense store with 32-bit counts grown in small chunks: the library's store keeps
 * counts as 8-byte numbers grown 128 at a time, which is most of a recorder's memory. Same layout
 * (`bins` from `offset`), so the library's stores can merge or copy from it; only recording uses it.
 */
export class CompactStore implements BinsLike {
  bins = new Uint32Array(0);
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
    this.bins = new Uint32Array(0);
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

/** A new, empty sketch with bounded, compact memory (for recording). */
export function newSketch(): Sketch {
  const s = new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });
  s.store = new CompactStore() as unknown as Sketch['store'];
  s.negativeStore = new CompactStore() as unknown as Sketch['store'];
  return s;
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

/** Protobuf bytes of a sketch (the DDSketch wire format). */
export function encodeSketch(sketch: Sketch): Buffer {
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

/** An empty sketch for merging decoded sketches into (unbounded dense store, like the decoded ones). */
export function emptySketch(): Sketch {
  return new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });
}
