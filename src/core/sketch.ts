/**
 * Quantile sketches: DDSketch (1 % relative accuracy) from @datadog/sketches-js, with the few things the
 * library leaves out: values clamped to >= 0, quantiles clamped to the exact min/max, a merge that also
 * accepts decoded sketches, and a protobuf round trip that checks the mapping.
 */
import { DDSketch, LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';

/** The relative accuracy of every sketch prodmon keeps (1 %). */
export const SKETCH_ACCURACY = 0.01;
/** Bins a sketch keeps before collapsing its lowest ones: memory stays bounded whatever the values. */
export const SKETCH_BIN_LIMIT = 2048;

/** A DDSketch (any store); the library's classes share this shape. */
export type Sketch = DDSketch;

const REFERENCE = new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });

/** A new, empty sketch with bounded memory (for recording). */
export function newSketch(): Sketch {
  return new LogCollapsingLowestDenseDDSketch({
    relativeAccuracy: SKETCH_ACCURACY,
    binLimit: SKETCH_BIN_LIMIT,
  }) as unknown as Sketch;
}

/** Adds a value (negative values, which no duration or ratio has, count as 0). */
export function sketchAdd(sketch: Sketch, value: number, weight = 1): void {
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
  const bytes = sketch.toProto();
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
