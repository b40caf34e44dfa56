/**
 * The binary push body, `application/vnd.prodmon.rows`: what `prodmon/agent` and embedded monitors
 * send to `POST /production/ingest` (the JSON body stays accepted, for other pushers and curl).
 *
 * A hub takes in every open minute of every series six times a minute. As JSON each row cost a
 * `JSON.parse` of its own, a labels object made and turned back into text, and its sketch (most of a
 * row's bytes) as base64 text decoded into bytes; on the hub of 20,000 series that was about half of
 * the CPU its rows took (docs/benchmarks.md, "A hub of 20,000 series"). Here a row is the bytes the hub
 * keeps: the labels as the canonical JSON text the store keys series by (checked once per label set,
 * then known), the figures as doubles and the sketch as its protobuf bytes. The same bytes are the
 * record the hub journals (src/metrics/open-minutes.ts), written as they came.
 *
 * Layout (all integers little-endian; `str` is `u32` byte length + UTF-8):
 *
 *     u8 2 | str instance | u32 rows |
 *     rows x ( str metric | str labels | f64 resolution, bucket, count, sum, min, max, errors |
 *              u32 sketch length (0xffffffff: none) | sketch bytes )
 *
 * A custom layout, not a general format (protobuf, MessagePack): it is the journal's own record, a
 * decoder reads it without building an object per field, and it needs no package in the agent.
 * This module is what the agent loads (no validation, no zod); the hub reads bodies with
 * `readPushRows` (src/metrics/push-rows-read.ts).
 */
import type { BucketFigures } from '../domain/rollup.js';

/** The media type of the body. */
export const PUSH_ROWS_TYPE = 'application/vnd.prodmon.rows';
/** The first byte of a body (and the kind of journal record it makes). */
export const PUSH_RECORD = 2;
/** A sketch length meaning "no sketch". */
export const NO_SKETCH = 0xffffffff;
/** Bytes of a row's figures: 7 doubles (see `writeFigures`). */
export const FIGURES_BYTES = 7 * 8;
/** Bytes of a row besides its strings and sketch: 3 lengths, the figures, the sketch length. */
export const ROW_FIXED_BYTES = 12 + FIGURES_BYTES + 4;

/** A row as encoded: the sketch as bytes, as base64 text (a pusher's queue keeps it so), or none. */
export interface PushRow extends BucketFigures {
  metric: string;
  /** Canonical JSON of the labels (`canonicalLabels`): the hub refuses any other form. */
  labels: string;
  sketch: Uint8Array | string | null;
}

/** Writes a row's figures (7 doubles) at `at`; returns the offset after them. */
export function writeFigures(buf: Buffer, at: number, r: BucketFigures): number {
  let i = buf.writeDoubleLE(r.resolution, at);
  i = buf.writeDoubleLE(r.bucket, i);
  i = buf.writeDoubleLE(r.count, i);
  i = buf.writeDoubleLE(r.sum, i);
  i = buf.writeDoubleLE(r.min, i);
  i = buf.writeDoubleLE(r.max, i);
  return buf.writeDoubleLE(r.errors, i);
}

/** Bytes of a base64 text once decoded (fewer come out when it holds what is not base64). */
export function base64Bytes(text: string): number {
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor(((text.length - pad) * 3) / 4);
}

/** The body of a push of `rows` from `instance`. */
export function encodePushRows(instance: string, rows: readonly PushRow[]): Buffer {
  let size = 1 + 4 + Buffer.byteLength(instance) + 4;
  for (const r of rows) {
    size += ROW_FIXED_BYTES + Buffer.byteLength(r.metric) + Buffer.byteLength(r.labels);
    if (typeof r.sketch === 'string') size += base64Bytes(r.sketch);
    else if (r.sketch) size += r.sketch.length;
  }
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  const str = (s: string) => {
    const n = buf.write(s, at + 4, 'utf8');
    buf.writeUInt32LE(n, at);
    at += 4 + n;
  };
  buf[at++] = PUSH_RECORD;
  str(instance);
  at = buf.writeUInt32LE(rows.length, at);
  for (const r of rows) {
    str(r.metric);
    str(r.labels);
    at = writeFigures(buf, at, r);
    const s = r.sketch;
    if (s === null) at = buf.writeUInt32LE(NO_SKETCH, at);
    else if (typeof s === 'string') {
      const n = buf.write(s, at + 4, 'base64');
      buf.writeUInt32LE(n, at);
      at += 4 + n;
    } else {
      buf.writeUInt32LE(s.length, at);
      buf.set(s, at + 4);
      at += 4 + s.length;
    }
  }
  return at === size ? buf : buf.subarray(0, at);
}
