/**
 * The push wire format: rollup rows as the store keeps them, with labels as an object and the sketch as
 * base64 protobuf. `parseBatch` validates strictly and says what is wrong where.
 */
import { z } from 'zod';
import { ProdmonError } from '../core/errors.js';
import { Slicer } from '../core/slice.js';
import type { BucketFigures, RollupRow } from '../domain/rollup.js';
import { base64Bytes } from './push-rows.js';
import { canonicalLabels, HOUR_MS, MINUTE_MS } from './rollup.js';
import { sketchBytesCount } from './sketch.js';

/** Rows in one request at most. */
export const MAX_ROWS_PER_BATCH = 5000;

/** One row on the wire. */
export interface WireRow extends BucketFigures {
  metric: string;
  labels: Record<string, string>;
  /** Base64 of the DDSketch protobuf, or null. */
  sketch: string | null;
}

/** A push: who sends, and their rows. */
export interface WireBatch {
  instance: string;
  rows: WireRow[];
}

/** The wire form of stored rows (in push.ts, which the agent loads without zod). */

const finite = z.number().refine(Number.isFinite, { error: 'must be a finite number' });
export const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,199}$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;

export const rowSchema = z.strictObject({
  metric: z
    .string()
    .regex(METRIC_NAME, { error: 'must be a metric name ([a-zA-Z_][a-zA-Z0-9_.:-]*, at most 200)' }),
  labels: z
    .record(z.string(), z.string().max(512, { error: 'label values must be at most 512 characters' }))
    .refine((l) => Object.keys(l).every((k) => labelName.test(k)), {
      error: 'label names must match [a-zA-Z_][a-zA-Z0-9_]* (at most 100 characters)',
    })
    .refine((l) => Object.keys(l).length <= 16, { error: 'at most 16 labels' }),
  resolution: z.union([z.literal(MINUTE_MS), z.literal(HOUR_MS)], {
    error: `must be ${MINUTE_MS} (minute) or ${HOUR_MS} (hour)`,
  }),
  bucket: z.number().int({ error: 'must be an integer (ms since the epoch)' }).min(0),
  count: z.number().int({ error: 'must be an integer' }).min(1, { error: 'must be at least 1' }),
  sum: finite,
  min: finite,
  max: finite,
  errors: z.number().int({ error: 'must be an integer' }).min(0, { error: 'must not be negative' }),
  // (whether it is base64 is checked on decoding: a regular expression over every sketch cost more)
  sketch: z.string().max(1_000_000, { error: 'sketch too large' }).nullable(),
});

export const batchSchema = z.strictObject({
  instance: z
    .string()
    .regex(/^[\w.:@/-]{1,200}$/, { error: 'must be 1-200 characters of letters, digits and _.:@/-' }),
  rows: z
    .array(z.unknown())
    .max(MAX_ROWS_PER_BATCH, { error: `at most ${MAX_ROWS_PER_BATCH} rows per request` }),
});

function bad(message: string): ProdmonError {
  return new ProdmonError('PRODMON_E_BAD_REQUEST', message);
}

function path(p: readonly PropertyKey[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');
}

export function invalid(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix = '',
): ProdmonError {
  const described = issues.slice(0, 5).map((i) => {
    const at = `${prefix}${prefix && i.path.length > 0 && typeof i.path[0] !== 'number' ? '.' : ''}${path(i.path)}`;
    return `${at || 'body'}: ${i.message}`;
  });
  return bad(`invalid rollup batch: ${described.join('; ')}`);
}

type ParsedRow = z.output<typeof rowSchema>;

const ROW_KEYS = new Set(Object.keys(rowSchema.shape));
const { isFinite: finiteNumber, isSafeInteger } = Number;

/**
 * What `rowSchema` accepts, checked by hand: a push of 20,000 rows a minute spent more CPU in zod's
 * walk of each row (a parse context, a check per field, a copy of the object) than in the rest of its
 * validation. Returns the row's labels as canonical JSON when `raw` is a valid row, or null, and the
 * caller then asks `rowSchema` (the reference, and the one that words the errors). Only plain objects
 * (what JSON.parse makes) pass here; src/metrics/wire.test.ts checks that both agree.
 */
export function checkedRow(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || Object.getPrototypeOf(raw) !== Object.prototype) return null;
  const r = raw as Record<string, unknown>;
  let n = 0;
  for (const k in r) {
    if (!ROW_KEYS.has(k) || !Object.hasOwn(r, k)) return null;
    n++;
  }
  if (n !== ROW_KEYS.size) return null;
  const { metric, labels, resolution, bucket, count, sum, min, max, errors, sketch } = r;
  if (typeof metric !== 'string' || !METRIC_NAME.test(metric)) return null;
  if (resolution !== MINUTE_MS && resolution !== HOUR_MS) return null;
  if (typeof bucket !== 'number' || !isSafeInteger(bucket) || bucket < 0) return null;
  if (typeof count !== 'number' || !isSafeInteger(count) || count < 1) return null;
  if (typeof errors !== 'number' || !isSafeInteger(errors) || errors < 0) return null;
  if (typeof sum !== 'number' || !finiteNumber(sum)) return null;
  if (typeof min !== 'number' || !finiteNumber(min)) return null;
  if (typeof max !== 'number' || !finiteNumber(max)) return null;
  if (sketch !== null && (typeof sketch !== 'string' || sketch.length > 1_000_000)) return null;
  if (typeof labels !== 'object' || labels === null) return null;
  const proto = Object.getPrototypeOf(labels);
  if (proto !== Object.prototype && proto !== null) return null;
  // Canonical JSON straight from the object when its keys come sorted (as pushers send them).
  const l = labels as Record<string, unknown>;
  let keys = 0;
  let sorted = true;
  let prev = '';
  for (const k in l) {
    const v = l[k];
    if (typeof v !== 'string' || v.length > 512 || !labelName.test(k) || k === '__proto__') return null;
    if (keys > 0 && k <= prev) sorted = false;
    prev = k;
    if (++keys > 16) return null;
  }
  if (Object.getOwnPropertySymbols(l).length > 0) return null;
  return sorted ? JSON.stringify(l) : canonicalLabels(l as Record<string, string>);
}

/** Bytes of the chunks that `Slab` cuts sketches from. */
const SLAB_BYTES = 1024 * 1024;

/**
 * The decoded sketches of one push, cut from one allocation (of the push's sketches' size, up to
 * `SLAB_BYTES` at a time) instead of one each: every `Buffer.from` of a sketch took a slice of Node's
 * pool or an ArrayBuffer of its own, which V8 tracks as external memory, a measurable part of a hub's
 * CPU. The sketches of a push live about as long as each other (until the pusher's next version of
 * its minutes), so the memory is not held much longer than its sketches.
 */
export class Slab {
  #chunk: Buffer | null = null;
  #at = 0;

  /** `expected`: the bytes about to be taken (the first chunk's size, up to `SLAB_BYTES`). */
  constructor(private expected: number) {}

  /** `n` bytes, not initialized. */
  take(n: number): Buffer {
    if (!this.#chunk || this.#at + n > this.#chunk.length) {
      const size = Math.min(SLAB_BYTES, Math.max(n, this.expected));
      if (n > size) return Buffer.allocUnsafeSlow(n);
      this.#chunk = Buffer.allocUnsafeSlow(size);
      this.#at = 0;
      this.expected = SLAB_BYTES / 4;
    }
    const out = this.#chunk.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
}

/** What makes a row a duplicate of another with the same labels. */
type Seen = Pick<RollupRow, 'metric' | 'resolution' | 'bucket'>;

/** The rows of one push seen so far, by labels (see `checkRow`). */
export type SeenRows = Map<string, Seen | Seen[]>;

/**
 * The checks of a row whose fields are each valid (bucket, figures, duplicates); throws naming
 * `rows[i]` and the field (the path is made only for an error: this runs for every pushed row).
 * `labels` is the row's canonical labels.
 */
export function checkRow(
  r: Seen & BucketFigures,
  labels: string,
  i: number,
  now: number,
  seen: SeenRows,
): void {
  if (r.bucket % r.resolution !== 0) throw bad(`rows[${i}].bucket: must be a multiple of the resolution`);
  if (r.bucket > now + HOUR_MS) throw bad(`rows[${i}].bucket: is more than an hour in the future`);
  if (r.errors > r.count) throw bad(`rows[${i}].errors: must not exceed count`);
  if (r.min > r.max) throw bad(`rows[${i}].min: must not exceed max`);
  // By labels (hashed once here, and the same string is looked up again downstream), then the rest.
  const before = seen.get(labels);
  const same = (p: Seen) => p.metric === r.metric && p.resolution === r.resolution && p.bucket === r.bucket;
  if (before === undefined) seen.set(labels, r);
  else if (Array.isArray(before) ? before.some(same) : same(before))
    throw bad(`rows[${i}]: duplicates an earlier row (same metric, labels, resolution, bucket)`);
  else seen.set(labels, Array.isArray(before) ? [...before, r] : [before, r]);
}

/** Checks that a sketch's bytes decode and hold `count` values; throws naming `rows[i].sketch`. */
export function checkSketch(sketch: Uint8Array, count: number, i: number): void {
  let n: number;
  try {
    n = sketchBytesCount(sketch);
  } catch (err) {
    throw bad(`rows[${i}].sketch: ${(err as Error).message}`);
  }
  if (Math.abs(n - count) > 1e-6 * count)
    throw bad(`rows[${i}].sketch: holds ${n} values but count is ${count}`);
}

/** One validated row, under the sender's instance; throws naming `rows[i]` and the field. */
function parseRow(
  raw: unknown,
  i: number,
  instance: string,
  now: number,
  seen: SeenRows,
  slab: Slab,
): RollupRow {
  let r: ParsedRow;
  let labels = checkedRow(raw);
  if (labels !== null) r = raw as ParsedRow;
  else {
    const parsed = rowSchema.safeParse(raw);
    if (!parsed.success) throw invalid(parsed.error.issues, `rows[${i}]`);
    r = parsed.data;
    labels = canonicalLabels(r.labels);
  }
  checkRow(r, labels, i, now, seen);
  let sketch: Buffer | null = null;
  if (r.sketch !== null) {
    // The decoder skips what is not base64: then fewer bytes come out than the text's length says.
    const text = r.sketch;
    const size = base64Bytes(text);
    sketch = slab.take(size);
    if (size > 0 && sketch.write(text, 0, size, 'base64') !== size)
      throw bad(`rows[${i}].sketch: must be base64`);
    checkSketch(sketch, r.count, i);
  }
  return {
    metric: r.metric,
    labels,
    instance,
    resolution: r.resolution,
    bucket: r.bucket,
    count: r.count,
    sum: r.sum,
    min: r.min,
    max: r.max,
    errors: r.errors,
    sketch,
  };
}

/** The sender and the raw rows of a pushed body; throws PRODMON_E_BAD_REQUEST naming the field. */
export function batchHeader(body: unknown): { instance: string; rows: unknown[] } {
  const parsed = batchSchema.safeParse(body);
  if (!parsed.success) throw invalid(parsed.error.issues);
  return parsed.data;
}

/** A push's sender and rows, before the rows are validated: a JSON body (`jsonBatch`) or a binary one. */
export interface PushBatch {
  readonly instance: string;
  /** Rows in the push. */
  readonly count: number;
  /** The rows under the sender's instance, validated; throws PRODMON_E_BAD_REQUEST naming row and field. */
  rows(now: number, slicer?: Slicer): Promise<RollupRow[]>;
  /** The body as a journal record of exactly these rows (binary bodies: src/metrics/push-rows.ts), or null. */
  readonly record: Buffer | null;
}

/** The batch of a parsed JSON body (`{ instance, rows }`); throws PRODMON_E_BAD_REQUEST naming the field. */
export function jsonBatch(body: unknown): PushBatch {
  const header = batchHeader(body);
  return {
    instance: header.instance,
    count: header.rows.length,
    rows: (now, slicer) => parseRows(header, now, slicer),
    record: null,
  };
}

/**
 * Validates the rows of a pushed body (see `batchHeader`) into store rows under the sender's
 * instance, in slices (see `Slicer`): a push of thousands of rows never holds the event loop for more
 * than a slice. Throws PRODMON_E_BAD_REQUEST naming the row and field; `now` bounds buckets from the
 * future (clock skew).
 */
export async function parseRows(
  batch: { instance: string; rows: readonly unknown[] },
  now: number,
  slicer = new Slicer(),
): Promise<RollupRow[]> {
  const seen: SeenRows = new Map();
  let bytes = 0;
  for (const raw of batch.rows) {
    const text = (raw as { sketch?: unknown } | null)?.sketch;
    if (typeof text === 'string') bytes += Math.floor((text.length * 3) / 4);
  }
  const slab = new Slab(bytes);
  const out: RollupRow[] = new Array(batch.rows.length);
  for (let i = 0; i < batch.rows.length; i++) {
    out[i] = parseRow(batch.rows[i], i, batch.instance, now, seen, slab);
    if (i % 32 === 31) await slicer.pause();
  }
  return out;
}

/** Validates a pushed body into store rows (`batchHeader`, then `parseRows`). */
export async function parseBatch(
  body: unknown,
  now: number,
  slicer = new Slicer(),
): Promise<{ instance: string; rows: RollupRow[] }> {
  const header = batchHeader(body);
  return { instance: header.instance, rows: await parseRows(header, now, slicer) };
}
