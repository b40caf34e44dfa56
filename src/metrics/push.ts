/**
 * Pushing rollups to a standalone prodmon (`metrics.push`): rows changed at each flush wait in a
 * bounded buffer (a newer version of a bucket replaces the older) and are POSTed to its ingest route;
 * failures are retried on the next round, rows the receiver rejects as invalid are dropped. Rows go as
 * the binary body (src/metrics/push-rows.ts); a receiver that does not take it (415: a prodmon from
 * before it) gets JSON from then on.
 * Sent with node:http/https (already loaded by any web app), not the global fetch, whose first use loads
 * undici, whose code would stay in the memory of every process that pushes (see docs/benchmarks.md).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { type Loop, startLoop } from '../core/loop.js';
import type { RollupRow } from '../domain/rollup.js';
import { encodePushRows, PUSH_ROWS_TYPE } from './push-rows.js';
import { parseLabels } from './rollup.js';
import type { WireBatch, WireRow } from './wire.js';

/** A row waiting to be pushed: a stored row with its sketch already in base64 (as it will be sent). */
type QueuedRow = Omit<RollupRow, 'sketch'> & { sketch: string | null };

/**
 * A row as queued: the sketch copied out as base64 text, so the row no longer refers to the flush's
 * encoding memory (which the next chunk writes over) and keeps nothing outside V8's heap.
 */
function queued(r: RollupRow): QueuedRow {
  // base64 of a view on the encoded bytes, not of a copy
  const sketch = r.sketch
    ? Buffer.from(r.sketch.buffer, r.sketch.byteOffset, r.sketch.byteLength).toString('base64')
    : null;
  return { ...r, sketch };
}

function wireRow(r: QueuedRow): WireRow {
  const { instance: _, labels, ...rest } = r;
  return { ...rest, labels: parseLabels(labels) };
}

/** The wire form of stored rows. */
export function toWire(instance: string, rows: readonly RollupRow[]): WireBatch {
  return { instance, rows: rows.map((r) => wireRow(queued(r))) };
}

/**
 * POSTs `body` and resolves with the status once the answer has been read; rejects on a network error
 * or when no answer is complete within `timeoutMs`. The body is written from this function's own scope,
 * never captured by a listener: a kept-alive connection keeps its last request's listeners, and with
 * them a whole batch (up to `MAX_BATCH_BYTES`) until the next push.
 */
export function postBody(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
  onHeaders?: (headers: IncomingHttpHeaders) => void,
): Promise<number> {
  const { req, answered } = openPost(
    url,
    { 'content-type': 'application/json', ...headers, 'content-length': String(Buffer.byteLength(body)) },
    timeoutMs,
    onHeaders,
  );
  req.end(body);
  return answered;
}

function openPost(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  onHeaders?: (headers: IncomingHttpHeaders) => void,
) {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  const req = send(url, { method: 'POST', headers });
  const answered = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      onHeaders?.(res.headers);
      res.resume(); // the answer's body is not needed, only read to the end
      res.on('end', () => {
        clearTimeout(timer);
        resolve(res.statusCode ?? 0);
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  });
  return { req, answered };
}

/** What the pusher needs. */
export interface PusherOptions {
  /** The standalone prodmon's base URL (`http://monitor:9464`), or its full ingest URL. */
  url: string;
  token: string;
  intervalMs: number;
  instance: string;
  clock: Clock;
  onError: (err: unknown) => void;
  fetch?: typeof fetch;
  /** Rows kept while the receiver is unreachable; the oldest go first beyond this. */
  maxBufferedRows?: number;
  batchSize?: number;
  timeoutMs?: number;
}

/** The ingest URL for a configured push URL. */
export function ingestUrl(url: string): string {
  const u = new URL(url);
  if (!/\/ingest\/?$/.test(u.pathname)) u.pathname = `${u.pathname.replace(/\/+$/, '')}/production/ingest`;
  return u.toString();
}

const MAX_BATCH_BYTES = 4 * 1024 * 1024;

const rowKey = (r: QueuedRow) => `${r.metric}\u0000${r.labels}\u0000${r.resolution}\u0000${r.bucket}`;

/** Sends rollups to another prodmon. */
export class Pusher {
  readonly url: string;
  /** Failed sends since start. */
  failures = 0;
  /** Rows dropped (buffer full, or rejected by the receiver). */
  dropped = 0;
  /** Rows accepted by the receiver since start. */
  sent = 0;
  lastError: string | null = null;
  readonly #opts: PusherOptions;
  readonly #buffer = new Map<string, QueuedRow>();
  readonly #max: number;
  #loop: Loop | null = null;
  #sending: Promise<number> | null = null;
  /** Rows per request the receiver allows, when it said so (a 429 naming its max_rows_per_request). */
  #receiverMaxRows: number | null = null;
  /** The receiver answered 415 to the binary body: JSON from then on. */
  #json = false;

  constructor(opts: PusherOptions) {
    this.#opts = opts;
    this.url = ingestUrl(opts.url);
    this.#max = opts.maxBufferedRows ?? 50_000;
  }

  /** Rows waiting to be sent. */
  get buffered(): number {
    return this.#buffer.size;
  }

  /** Queues rows (replacing older versions of the same bucket); keeps a copy of each. */
  enqueue(rows: readonly RollupRow[]): void {
    for (const row of rows) {
      const r = queued(row);
      const k = rowKey(r);
      this.#buffer.delete(k);
      this.#buffer.set(k, r);
    }
    while (this.#buffer.size > this.#max) {
      const oldest = this.#buffer.keys().next().value as string;
      this.#buffer.delete(oldest);
      this.dropped++;
    }
  }

  /** Starts sending every interval. */
  start(): void {
    this.#loop ??= startLoop({
      clock: this.#opts.clock,
      intervalMs: this.#opts.intervalMs,
      immediate: false,
      body: () => this.send().then(() => {}),
      onError: this.#opts.onError,
    });
  }

  /** Sends everything buffered now (in batches); returns the rows accepted. Throws after a failed batch. */
  send(): Promise<number> {
    this.#sending ??= this.#sendAll().finally(() => {
      this.#sending = null;
    });
    return this.#sending;
  }

  async #sendAll(): Promise<number> {
    let accepted = 0;
    for (const batch of this.#batches()) {
      const status = await this.#post(batch.map(([, r]) => r));
      const forget = status < 300 || status === 400 || status === 413 || status === 422;
      if (forget) {
        for (const [k, r] of batch) if (this.#buffer.get(k) === r) this.#buffer.delete(k);
      }
      if (status < 300) {
        accepted += batch.length;
        this.sent += batch.length;
        this.lastError = null;
        continue;
      }
      this.failures++;
      if (forget) this.dropped += batch.length;
      this.lastError = `push to ${new URL(this.url).host} answered ${status}`;
      throw new Error(this.lastError);
    }
    return accepted;
  }

  /** The buffer in batches of at most `batchSize` rows and about 4 MB (under the receiver's body limit). */
  #batches(): [string, QueuedRow][][] {
    const maxRows = Math.min(this.#opts.batchSize ?? 2000, this.#receiverMaxRows ?? Number.POSITIVE_INFINITY);
    const out: [string, QueuedRow][][] = [];
    let cur: [string, QueuedRow][] = [];
    let bytes = 0;
    for (const entry of this.#buffer.entries()) {
      const size = 300 + entry[1].labels.length + (entry[1].sketch?.length ?? 0);
      if (cur.length > 0 && (cur.length >= maxRows || bytes + size > MAX_BATCH_BYTES)) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(entry);
      bytes += size;
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  async #post(rows: QueuedRow[]): Promise<number> {
    const binary = !this.#json;
    const status = await this.#postAs(rows, binary);
    if (status !== 415 || !binary) return status;
    this.#json = true; // a receiver from before the binary body
    return this.#postAs(rows, false);
  }

  async #postAs(rows: QueuedRow[], binary: boolean): Promise<number> {
    const f = this.#opts.fetch;
    const body = binary
      ? encodePushRows(this.#opts.instance, rows)
      : JSON.stringify({ instance: this.#opts.instance, rows: rows.map(wireRow) } satisfies WireBatch);
    const type = binary ? PUSH_ROWS_TYPE : 'application/json';
    const auth = `Bearer ${this.#opts.token}`;
    const timeoutMs = this.#opts.timeoutMs ?? 10_000;
    // A receiver over its rows-per-request limit says how many it takes: later batches are cut to it.
    const maxRows = (v: string | string[] | null | undefined) => {
      const n = Number(v);
      if (Number.isInteger(n) && n >= 1) this.#receiverMaxRows = n;
    };
    try {
      if (!f) {
        return await postBody(this.url, body, { authorization: auth, 'content-type': type }, timeoutMs, (h) =>
          maxRows(h['x-prodmon-max-rows']),
        );
      }
      const res = await f(this.url, {
        method: 'POST',
        headers: { 'content-type': type, authorization: auth },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      maxRows(res.headers.get('x-prodmon-max-rows'));
      return res.status;
    } catch (err) {
      this.failures++;
      this.lastError = `push to ${new URL(this.url).host} failed: ${errorMessage(err)}`;
      throw new Error(this.lastError);
    }
  }

  /** Stops the loop, after one last attempt to send what is buffered. */
  async stop(): Promise<void> {
    await this.#loop?.stop();
    this.#loop = null;
    if (this.#buffer.size > 0) await this.send().catch(() => {});
  }
}
