/**
 * A fast reader of the DDSketch protobuf prodmon writes (logarithmic mapping, contiguous bins): the
 * bins come straight from the bytes, without the protobuf library's message objects or the library
 * store's bin-by-bin growth, which made decoding most of the cost of reading a week of rollups.
 * Anything else (another interpolation or offset, sparse bins, unknown fields, damaged bytes) gives
 * null, and the caller falls back to the library's decoder.
 */

/** The bins of one store: counts of keys `offset .. offset + counts.length - 1`. */
export interface ProtoBins {
  offset: number;
  counts: number[];
}

/** What a DDSketch protobuf holds. */
export interface ProtoSketch {
  gamma: number;
  positive: ProtoBins;
  negative: ProtoBins;
  zeroCount: number;
}

/** Where one store's bins are: `n` doubles (little-endian) from byte `at`, for keys from `offset`. */
export interface StoreLayout {
  offset: number;
  at: number;
  n: number;
}

/** Where everything of a DDSketch protobuf is, to read its bins without copying them first. */
export interface SketchLayout {
  gamma: number;
  positive: StoreLayout;
  negative: StoreLayout;
  zeroCount: number;
  /** A view of the memory the bytes are in (positions include their offset in it), for `getFloat64(at + 8 * i, true)`. */
  view: DataView;
}

/** The DataView of the last memory read (sketches of one push or one read share theirs). */
let lastBuffer: ArrayBufferLike | null = null;
let lastView: DataView | null = null;

function viewOf(buffer: ArrayBufferLike): DataView {
  if (buffer !== lastBuffer || !lastView) {
    lastView = new DataView(buffer);
    lastBuffer = buffer;
  }
  return lastView;
}

/**
 * Reads a sketch's bytes; one is re-aimed at each sketch (`reset`) rather than made per read, and
 * its view is over the whole memory the bytes are in (positions from `base`): reading the sketches of
 * a push, which share one allocation, then makes no object per sketch.
 */
class Reader {
  pos = 0;
  end = 0;
  base = 0;
  bytes: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(new ArrayBuffer(0));

  reset(bytes: Uint8Array): this {
    this.bytes = bytes;
    this.pos = 0;
    this.end = bytes.length;
    this.base = bytes.byteOffset;
    this.view = viewOf(bytes.buffer);
    return this;
  }

  /** A varint (up to 2^53), or -1 when the bytes end inside it. */
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) return -1;
      const b = this.bytes[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    return -1;
  }

  double(): number {
    if (this.pos + 8 > this.end) return Number.NaN;
    const v = this.view.getFloat64(this.base + this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The end of a length-delimited field starting here, or -1. */
  sub(): number {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) return -1;
    return this.pos + len;
  }
}

/** A zigzag-encoded sint32 from its varint. */
const unzigzag = (n: number) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

function readMapping(r: Reader, end: number): number | null {
  let gamma = Number.NaN;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 9) gamma = r.double();
    else if (tag === 17) {
      if (r.double() !== 0) return null; // an index offset: not prodmon's mapping
    } else if (tag === 24) {
      if (r.varint() !== 0) return null; // interpolated mappings are left to the library
    } else return null;
  }
  return r.pos === end && Number.isFinite(gamma) ? gamma : null;
}

/** A store of one packed run of finite counts (as every DDSketch writer makes it), or null. */
function scanStore(r: Reader, end: number): StoreLayout | null {
  const out: StoreLayout = { offset: 0, at: r.base + r.pos, n: 0 };
  let packed = false;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 18 && !packed) {
      const stop = r.sub();
      if (stop < 0 || (stop - r.pos) % 8 !== 0) return null;
      out.at = r.base + r.pos;
      out.n = (stop - r.pos) / 8;
      const view = r.view;
      for (let p = r.base + r.pos, e = r.base + stop; p < e; p += 8) {
        if (!Number.isFinite(view.getFloat64(p, true))) return null;
      }
      r.pos = stop;
      packed = true;
    } else if (tag === 24) {
      const v = r.varint();
      if (v < 0) return null;
      out.offset = unzigzag(v);
    } else return null; // unpacked or repeated runs, the sparse `binCounts` map, an unknown field
  }
  return r.pos === end ? out : null;
}

const reader = new Reader();

/**
 * Where the parts of a DDSketch protobuf of the usual shape are, or null (see the module comment).
 * Positions are in `view`, which may span more than `bytes` (the memory they are in).
 */
export function scanSketchProto(bytes: Uint8Array): SketchLayout | null {
  const r = reader.reset(bytes);
  let gamma: number | null = null;
  let positive: StoreLayout | null = null;
  let negative: StoreLayout | null = null;
  let zeroCount = 0;
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 10 || tag === 18 || tag === 26) {
      const end = r.sub();
      if (end < 0) return null;
      if (tag === 10) {
        gamma = readMapping(r, end);
        if (gamma === null) return null;
      } else if (tag === 18) {
        positive = scanStore(r, end);
        if (!positive) return null;
      } else {
        negative = scanStore(r, end);
        if (!negative) return null;
      }
    } else if (tag === 33) {
      zeroCount = r.double();
    } else return null;
  }
  if (gamma === null || !positive || !negative || !Number.isFinite(zeroCount)) return null;
  return { gamma, positive, negative, zeroCount, view: r.view };
}

/** The counts of a store, copied out of the bytes. */
export function storeCounts(layout: SketchLayout, store: StoreLayout): number[] {
  const out: number[] = new Array(store.n);
  for (let i = 0; i < store.n; i++) out[i] = layout.view.getFloat64(store.at + 8 * i, true);
  return out;
}

/** Reads a DDSketch protobuf of the usual shape, or returns null (see the module comment). */
export function readSketchProto(bytes: Uint8Array): ProtoSketch | null {
  const l = scanSketchProto(bytes);
  if (!l) return null;
  return {
    gamma: l.gamma,
    positive: { offset: l.positive.offset, counts: storeCounts(l, l.positive) },
    negative: { offset: l.negative.offset, counts: storeCounts(l, l.negative) },
    zeroCount: l.zeroCount,
  };
}

/** A store's bins as the DDSketch stores keep them: counts from `offset`, keys `minKey..maxKey` in use. */
export interface BinsView {
  bins: ArrayLike<number>;
  offset: number;
  minKey: number;
  maxKey: number;
}

/** The keys from the first to the last non-zero bin, or null when every bin is empty. */
function nonZero(s: BinsView): { from: number; to: number } | null {
  if (!(s.maxKey >= s.minKey)) return null;
  let from = s.minKey;
  let to = s.maxKey;
  while (from <= to && !(s.bins[from - s.offset]! > 0)) from++;
  while (to >= from && !(s.bins[to - s.offset]! > 0)) to--;
  return from <= to ? { from, to } : null;
}

const varintSize = (n: number) => {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
};
const zigzag = (n: number) => (n >= 0 ? 2 * n : -2 * n - 1);

/**
 * Memory that encoded sketches are written into, one after the other, and that is written over again
 * once they are done with (`reset`): a flush encodes every changed series' sketch (a few KB each, every
 * 10 s), and a Buffer per sketch would be that much garbage outside V8's heap each time, freed only by
 * a full collection. The encoded bytes are views into it, valid until the next `reset`.
 */
export class EncodeArena {
  buf: Buffer;
  used = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** Where `size` more bytes go: a bigger buffer when this one is full (views into the old stay valid). */
  room(size: number): void {
    if (this.used + size <= this.buf.length) return;
    this.buf = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, size));
    this.used = 0;
  }

  /** Writes over everything encoded so far. */
  reset(): void {
    this.used = 0;
  }
}

class Writer {
  pos: number;
  readonly buf: Buffer;

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  varint(n: number): void {
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  double(v: number): void {
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
}

function storeSize(range: { from: number; to: number } | null, offset: number): number {
  const packed = range ? (range.to - range.from + 1) * 8 : 0;
  return (packed > 0 ? 1 + varintSize(packed) + packed : 0) + 1 + varintSize(zigzag(offset));
}

function writeStore(w: Writer, tag: number, s: BinsView, range: { from: number; to: number } | null): void {
  const offset = range ? range.from : 0;
  w.varint(tag);
  w.varint(storeSize(range, offset));
  if (range) {
    w.varint(18);
    w.varint((range.to - range.from + 1) * 8);
    for (let k = range.from; k <= range.to; k++) w.double(s.bins[k - s.offset] ?? 0);
  }
  w.varint(24);
  w.varint(zigzag(offset));
}

/**
 * The DDSketch protobuf of a sketch (logarithmic mapping of `gamma`, contiguous bins), as the library
 * writes it but with only the bins from the first to the last non-zero one: the library writes every
 * allocated bin, mostly zeros for the few values of a minute. Any DDSketch reader reads it. Written into
 * `arena` when given (the result is a view into it), else into a Buffer of its own.
 */
export function writeSketchProto(
  gamma: number,
  positive: BinsView,
  negative: BinsView,
  zeroCount: number,
  arena?: EncodeArena,
): Buffer {
  const pos = nonZero(positive);
  const neg = nonZero(negative);
  const posSize = storeSize(pos, pos ? pos.from : 0);
  const negSize = storeSize(neg, neg ? neg.from : 0);
  const mappingSize = 20; // gamma, index offset 0, interpolation NONE
  const size = 2 + mappingSize + 1 + varintSize(posSize) + posSize + 1 + varintSize(negSize) + negSize + 9;
  arena?.room(size);
  const start = arena ? arena.used : 0;
  const w = new Writer(arena ? arena.buf : Buffer.allocUnsafe(size), start);
  w.varint(10);
  w.varint(mappingSize);
  w.varint(9);
  w.double(gamma);
  w.varint(17);
  w.double(0);
  w.varint(24);
  w.varint(0);
  writeStore(w, 18, positive, pos);
  writeStore(w, 26, negative, neg);
  w.varint(33);
  w.double(zeroCount);
  if (arena) {
    arena.used = w.pos;
    return w.buf.subarray(start, w.pos);
  }
  return w.pos === size ? w.buf : w.buf.subarray(0, w.pos);
}
