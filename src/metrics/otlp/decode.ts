/**
 * OTLP/HTTP metrics bodies (`ExportMetricsServiceRequest`), protobuf or JSON, gzip or not, into one
 * plain shape (`OtlpRequest`) the mapping reads. The protobuf is decoded with protobufjs from the
 * descriptor of the official .proto files (`./proto/`), loaded on the first protobuf body. A body that
 * is not what it says it is, or holds a field of the wrong type, is PRODMON_E_BAD_REQUEST naming the
 * field; unknown fields are ignored (as OTLP asks of receivers). Decoding is one piece of work that
 * holds the event loop for as long as the body is large (docs/metrics.md gives its cost); what follows
 * (./map.ts, the admission) runs in slices.
 */
import { gunzip } from 'node:zlib';
import type { Type } from 'protobufjs';
import { ProdmonError } from '../../core/errors.js';
import { protobufLight } from '../../core/lazy.js';
import { OTLP_METRICS_DESCRIPTOR } from './proto/descriptor.js';

/** Attributes with their values as text (arrays and maps as JSON). */
export type Attributes = Record<string, string>;

interface PointBase {
  attributes: Attributes;
  /** ms since the epoch (0 when unset). */
  start: number;
  time: number;
}

export interface NumberPoint extends PointBase {
  value: number;
}

export interface HistogramPoint extends PointBase {
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  /** Upper bounds; `counts` has one more entry (the bucket above the last bound). */
  bounds: number[];
  counts: number[];
}

export interface ExpBuckets {
  offset: number;
  counts: number[];
}

export interface ExpHistogramPoint extends PointBase {
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  scale: number;
  zeroCount: number;
  positive: ExpBuckets;
  negative: ExpBuckets;
}

/** OTLP's AggregationTemporality. */
export const TEMPORALITY = { unspecified: 0, delta: 1, cumulative: 2 } as const;

export type OtlpData =
  | { kind: 'gauge'; points: NumberPoint[] }
  | { kind: 'sum'; monotonic: boolean; temporality: number; points: NumberPoint[] }
  | { kind: 'histogram'; temporality: number; points: HistogramPoint[] }
  | { kind: 'exponentialHistogram'; temporality: number; points: ExpHistogramPoint[] }
  /** Summaries and data of kinds this receiver does not know: only their number of points. */
  | { kind: 'unsupported'; what: string; points: number };

export interface OtlpMetric {
  name: string;
  unit: string;
  data: OtlpData;
}

export interface OtlpResourceMetrics {
  resource: Attributes;
  metrics: OtlpMetric[];
}

export interface OtlpRequest {
  resourceMetrics: OtlpResourceMetrics[];
}

/** Largest body once decompressed (the compressed size is bounded by the route's body limit). */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

function bad(message: string): ProdmonError {
  return new ProdmonError('PRODMON_E_BAD_REQUEST', message);
}

/** The body without its `Content-Encoding` (`gzip` or none). */
export async function inflate(body: Buffer, encoding: string | undefined): Promise<Buffer> {
  const e = (encoding ?? '').trim().toLowerCase();
  if (e === '' || e === 'identity') return body;
  if (e !== 'gzip') throw bad(`Content-Encoding "${encoding}" is not supported (gzip or none)`);
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: MAX_INFLATED_BYTES }, (err, out) => {
      if (!err) return resolve(out);
      const why =
        (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
          ? `inflates to more than ${MAX_INFLATED_BYTES} bytes`
          : err.message;
      reject(bad(`the gzip body could not be inflated: ${why}`));
    });
  });
}

let loaded: { request: Type; response: Type } | null = null;

function types(): { request: Type; response: Type } {
  if (!loaded) {
    const root = protobufLight().Root.fromJSON(OTLP_METRICS_DESCRIPTOR as never);
    const pkg = 'opentelemetry.proto.collector.metrics.v1';
    loaded = {
      request: root.lookupType(`${pkg}.ExportMetricsServiceRequest`),
      response: root.lookupType(`${pkg}.ExportMetricsServiceResponse`),
    };
  }
  return loaded;
}

/** Which body format a Content-Type names, or null. */
export function bodyFormat(contentType: string | undefined): 'protobuf' | 'json' | null {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === 'application/x-protobuf' || t === 'application/protobuf') return 'protobuf';
  if (t === 'application/json') return 'json';
  return null;
}

/** Decodes an (inflated) body of the given format. */
export function decodeRequest(body: Buffer, format: 'protobuf' | 'json'): OtlpRequest {
  let raw: unknown;
  if (format === 'protobuf') {
    const { request } = types();
    try {
      const msg = request.decode(body);
      raw = request.toObject(msg, { longs: String, enums: Number, bytes: String, defaults: false });
    } catch (err) {
      throw bad(`the body is not an ExportMetricsServiceRequest protobuf: ${(err as Error).message}`);
    }
  } else {
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw bad(`the body is not valid JSON: ${(err as Error).message}`);
    }
  }
  return normalize(raw);
}

/** The success answer in the request's format: a partial success when points were rejected. */
export function encodeResponse(
  format: 'protobuf' | 'json',
  partial: { rejectedDataPoints: number; errorMessage: string } | null,
): Buffer | Record<string, unknown> {
  const body = partial
    ? {
        partialSuccess: {
          rejectedDataPoints: partial.rejectedDataPoints,
          errorMessage: partial.errorMessage,
        },
      }
    : {};
  if (format === 'json') return body;
  const { response } = types();
  return Buffer.from(response.encode(response.fromObject(body)).finish());
}

/** Decodes an `ExportMetricsServiceResponse` protobuf (for tests and the benchmark). */
export function decodeResponse(bytes: Uint8Array): {
  partialSuccess?: { rejectedDataPoints?: string; errorMessage?: string };
} {
  const { response } = types();
  return response.toObject(response.decode(bytes), { longs: String, defaults: false }) as never;
}

/** Encodes a request given as OTLP JSON (for tests and the benchmark). */
export function encodeRequest(json: unknown): Buffer {
  const { request } = types();
  return Buffer.from(request.encode(request.fromObject(json as Record<string, unknown>)).finish());
}

// --- normalizing (the protobuf's object form and OTLP JSON share their field names) ---

type Obj = Record<string, unknown>;

function obj(v: unknown, at: string): Obj {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`${at}: must be an object`);
  return v as Obj;
}

function arr(v: unknown, at: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`${at}: must be an array`);
  return v;
}

function str(v: unknown, at: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(`${at}: must be a string`);
  return v;
}

/** A number (64-bit integers come as decimal strings in OTLP JSON and from protobufjs). */
function num(v: unknown, at: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) throw bad(`${at}: must be a number`);
  return n;
}

/** A double field (JSON may spell the non-finite ones "NaN", "Infinity", "-Infinity"). */
function dbl(v: unknown, at: string): number {
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return num(v, at);
}

function count(v: unknown, at: string): number {
  const n = num(v, at);
  if (!Number.isInteger(n) || n < 0) throw bad(`${at}: must be a non-negative integer`);
  return n;
}

function optional(o: Obj, key: string, at: string): number | undefined {
  return o[key] === undefined || o[key] === null ? undefined : dbl(o[key], `${at}.${key}`);
}

/** ms since the epoch of a `*_unix_nano` field. */
function nanosToMs(v: unknown, at: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'string' && /^\d+$/.test(v)) {
    return v.length > 6 ? Number(v.slice(0, -6)) + Number(v.slice(-6)) / 1e6 : Number(v) / 1e6;
  }
  return count(v, at) / 1e6;
}

function anyValue(v: unknown, at: string): string {
  const o = obj(v, at);
  if (o.stringValue !== undefined) return str(o.stringValue, `${at}.stringValue`);
  if (o.boolValue !== undefined) return String(Boolean(o.boolValue));
  if (o.intValue !== undefined) return String(num(o.intValue, `${at}.intValue`));
  if (o.doubleValue !== undefined) return String(dbl(o.doubleValue, `${at}.doubleValue`));
  if (o.arrayValue !== undefined) {
    const values = arr(obj(o.arrayValue, `${at}.arrayValue`).values, `${at}.arrayValue.values`);
    return JSON.stringify(values.map((x, i) => anyValue(x, `${at}.arrayValue.values[${i}]`)));
  }
  if (o.kvlistValue !== undefined) {
    return JSON.stringify(attributes(obj(o.kvlistValue, `${at}.kvlistValue`).values, `${at}.kvlistValue`));
  }
  if (o.bytesValue !== undefined) return str(o.bytesValue, `${at}.bytesValue`);
  return '';
}

function attributes(v: unknown, at: string): Attributes {
  const out: Attributes = {};
  arr(v, at).forEach((kv, i) => {
    const o = obj(kv, `${at}[${i}]`);
    out[str(o.key, `${at}[${i}].key`)] = anyValue(o.value, `${at}[${i}].value`);
  });
  return out;
}

function pointBase(o: Obj, at: string): PointBase {
  return {
    attributes: attributes(o.attributes, `${at}.attributes`),
    start: nanosToMs(o.startTimeUnixNano, `${at}.startTimeUnixNano`),
    time: nanosToMs(o.timeUnixNano, `${at}.timeUnixNano`),
  };
}

function numberPoints(v: unknown, at: string): NumberPoint[] {
  return arr(v, at).map((p, i) => {
    const a = `${at}[${i}]`;
    const o = obj(p, a);
    const value =
      o.asDouble !== undefined ? dbl(o.asDouble, `${a}.asDouble`) : num(o.asInt ?? 0, `${a}.asInt`);
    return { ...pointBase(o, a), value };
  });
}

function histogramPoints(v: unknown, at: string): HistogramPoint[] {
  return arr(v, at).map((p, i) => {
    const a = `${at}[${i}]`;
    const o = obj(p, a);
    const bounds = arr(o.explicitBounds, `${a}.explicitBounds`).map((b, j) =>
      dbl(b, `${a}.explicitBounds[${j}]`),
    );
    const counts = arr(o.bucketCounts, `${a}.bucketCounts`).map((c, j) =>
      count(c, `${a}.bucketCounts[${j}]`),
    );
    if (counts.length > 0 && counts.length !== bounds.length + 1) {
      throw bad(`${a}.bucketCounts: must have one more entry than explicitBounds (${bounds.length + 1})`);
    }
    for (let j = 1; j < bounds.length; j++) {
      if (!(bounds[j]! > bounds[j - 1]!)) throw bad(`${a}.explicitBounds: must be increasing`);
    }
    return {
      ...pointBase(o, a),
      count: count(o.count, `${a}.count`),
      sum: optional(o, 'sum', a),
      min: optional(o, 'min', a),
      max: optional(o, 'max', a),
      bounds,
      counts,
    };
  });
}

function expBuckets(v: unknown, at: string): ExpBuckets {
  const o = obj(v, at);
  return {
    offset: num(o.offset, `${at}.offset`),
    counts: arr(o.bucketCounts, `${at}.bucketCounts`).map((c, j) => count(c, `${at}.bucketCounts[${j}]`)),
  };
}

function expPoints(v: unknown, at: string): ExpHistogramPoint[] {
  return arr(v, at).map((p, i) => {
    const a = `${at}[${i}]`;
    const o = obj(p, a);
    const scale = num(o.scale, `${a}.scale`);
    if (!Number.isInteger(scale) || scale < -10 || scale > 20) throw bad(`${a}.scale: must be -10..20`);
    return {
      ...pointBase(o, a),
      count: count(o.count, `${a}.count`),
      sum: optional(o, 'sum', a),
      min: optional(o, 'min', a),
      max: optional(o, 'max', a),
      scale,
      zeroCount: count(o.zeroCount, `${a}.zeroCount`),
      positive: expBuckets(o.positive, `${a}.positive`),
      negative: expBuckets(o.negative, `${a}.negative`),
    };
  });
}

function metric(v: unknown, at: string): OtlpMetric {
  const o = obj(v, at);
  const name = str(o.name, `${at}.name`);
  const unit = str(o.unit, `${at}.unit`);
  const section = (key: string) => obj(o[key], `${at}.${key}`);
  let data: OtlpData;
  if (o.gauge !== undefined) {
    data = { kind: 'gauge', points: numberPoints(section('gauge').dataPoints, `${at}.gauge.dataPoints`) };
  } else if (o.sum !== undefined) {
    const s = section('sum');
    data = {
      kind: 'sum',
      monotonic: s.isMonotonic === true,
      temporality: num(s.aggregationTemporality, `${at}.sum.aggregationTemporality`),
      points: numberPoints(s.dataPoints, `${at}.sum.dataPoints`),
    };
  } else if (o.histogram !== undefined) {
    const h = section('histogram');
    data = {
      kind: 'histogram',
      temporality: num(h.aggregationTemporality, `${at}.histogram.aggregationTemporality`),
      points: histogramPoints(h.dataPoints, `${at}.histogram.dataPoints`),
    };
  } else if (o.exponentialHistogram !== undefined) {
    const h = section('exponentialHistogram');
    data = {
      kind: 'exponentialHistogram',
      temporality: num(h.aggregationTemporality, `${at}.exponentialHistogram.aggregationTemporality`),
      points: expPoints(h.dataPoints, `${at}.exponentialHistogram.dataPoints`),
    };
  } else if (o.summary !== undefined) {
    const s = section('summary');
    data = {
      kind: 'unsupported',
      what: 'summary',
      points: arr(s.dataPoints, `${at}.summary.dataPoints`).length,
    };
  } else {
    data = { kind: 'unsupported', what: 'data of no known type', points: 0 };
  }
  return { name, unit, data };
}

function normalize(raw: unknown): OtlpRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw bad('body: must be an ExportMetricsServiceRequest object');
  }
  const resourceMetrics = arr((raw as Obj).resourceMetrics, 'resourceMetrics').map((rm, i) => {
    const at = `resourceMetrics[${i}]`;
    const o = obj(rm, at);
    const resource = attributes(obj(o.resource, `${at}.resource`).attributes, `${at}.resource.attributes`);
    const metrics: OtlpMetric[] = [];
    arr(o.scopeMetrics, `${at}.scopeMetrics`).forEach((sm, j) => {
      const sat = `${at}.scopeMetrics[${j}]`;
      arr(obj(sm, sat).metrics, `${sat}.metrics`).forEach((m, k) => {
        metrics.push(metric(m, `${sat}.metrics[${k}]`));
      });
    });
    return { resource, metrics };
  });
  return { resourceMetrics };
}
