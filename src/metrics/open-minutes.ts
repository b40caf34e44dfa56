/**
 * Pushed rollups of minutes still open, kept in memory and written to the store once, when the minute
 * settles. A pusher re-sends each open minute of each series at every push (six times a minute at the
 * agent's 10 s), and each version replaces the one before; writing every version to SQLite cost a hub
 * more CPU than everything else it does. Here:
 *
 * - every accepted push is first appended to the journal (src/store/journal.ts) as one record of its
 *   rows (`encodeRows`), before the push is answered: a crash after the answer loses nothing;
 * - a row of a minute not settled yet (`settleMs` after the minute's end; minute rows only, up to a
 *   minute ahead) replaces its series' version in memory; any other row (a pusher catching up, an
 *   hourly row, a bucket far ahead) is written to the store at once, as before;
 * - a minute is written to the store once it has settled (checked every `SETTLE_CHECK_MS` and at each
 *   push), then dropped from memory;
 * - past `maxRows` rows held, the oldest minutes are written early (and dropped): memory stays bounded
 *   whatever the fleet; a later version of such a minute is kept again and written again when it settles;
 * - a journal segment is deleted once every row it holds is in the store or replaced by a later
 *   version; segments go strictly oldest first, so the segments left always replay to the newest
 *   version of each row;
 * - at start, the segments left by the previous process (a crash: a clean stop writes everything and
 *   leaves none) are replayed, their rows written to the store, and the segments deleted;
 * - reads (`OpenMinutesRollups`) see the store's rows with the rows held here in their place.
 *
 * Used where one process owns the store (SQLite). On PostgreSQL, pushes are written through as before:
 * the instance that evaluates the rules reads other instances' pushes from the shared store.
 */
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { type Loop, startLoop } from '../core/loop.js';
import { Slicer } from '../core/slice.js';
import type { RollupQuery, RollupRow } from '../domain/rollup.js';
import type { Journal, JournalLog } from '../store/journal.js';
import { NO_SKETCH, PUSH_RECORD, writeFigures } from './push-rows.js';
import type { RollupRepository } from './repository.js';
import { MINUTE_MS } from './rollup.js';

/** A minute is written this long after its end (default): the last pushes of it are in by then. */
export const SETTLE_MS = 30_000;
/** How often settled minutes are looked for without pushes (ms). */
export const SETTLE_CHECK_MS = 5_000;
/** A journal segment is closed once it is this old (ms), so that it can be deleted once settled. */
export const SEGMENT_MAX_AGE_MS = 30_000;
/** Rows per write to the store; the loop gets a turn between them. */
const WRITE_CHUNK = 200;
/** Journal records up to this size are encoded into one buffer kept for them. */
const RECORD_SCRATCH_BYTES = 8 * 1024 * 1024;
/** The journal's folder under the data directory. */
export const JOURNAL_DIR = 'ingest-journal';

/** The journal folder of a data directory. */
export function journalDir(dataDir: string): string {
  return join(dataDir, JOURNAL_DIR);
}

// ---- the journal's records ---------------------------------------------------------------------

const ROWS_RECORD = 1;

/**
 * One journal record of rows: `[u8 1][u32 rows]`, then per row its metric, labels and instance
 * (`u32` byte length + UTF-8 each), resolution, bucket, count, sum, min, max and errors (f64 LE each)
 * and its sketch (`u32` length, 0xffffffff for none, + bytes).
 */
export function encodeRows(rows: readonly RollupRow[], scratch?: Buffer): Buffer {
  const size = recordBytes(rows);
  const buf = scratch && scratch.length >= size ? scratch : Buffer.allocUnsafe(size);
  buf[0] = ROWS_RECORD;
  buf.writeUInt32LE(rows.length, 1);
  let at = 5;
  const str = (s: string) => {
    const n = buf.write(s, at + 4, 'utf8');
    buf.writeUInt32LE(n, at);
    at += 4 + n;
  };
  for (const r of rows) {
    str(r.metric);
    str(r.labels);
    str(r.instance);
    at = writeFigures(buf, at, r);
    if (r.sketch) {
      buf.writeUInt32LE(r.sketch.length, at);
      at += 4;
      buf.set(r.sketch, at);
      at += r.sketch.length;
    } else {
      at = buf.writeUInt32LE(NO_SKETCH, at);
    }
  }
  return buf.subarray(0, at);
}

/** The most bytes `encodeRows` takes for `rows`. */
export function recordBytes(rows: readonly RollupRow[]): number {
  let size = 5;
  for (const r of rows) {
    size += 12 + 3 * (r.metric.length + r.labels.length + r.instance.length) + 56 + 4;
    if (r.sketch) size += r.sketch.length;
  }
  return size;
}

/**
 * The rows of a journal record: `encodeRows`'s, or a binary push body (src/metrics/push-rows.ts, its
 * instance once for every row); throws when the record is neither.
 */
export function decodeRows(buf: Buffer): RollupRow[] {
  const need = (n: number) => {
    if (at + n > buf.length) throw new Error(`a row record ends early (byte ${at} of ${buf.length})`);
  };
  let at = 0;
  const str = () => {
    need(4);
    const len = buf.readUInt32LE(at);
    at += 4;
    need(len);
    const s = buf.toString('utf8', at, at + len);
    at += len;
    return s;
  };
  const num = () => {
    need(8);
    const v = buf.readDoubleLE(at);
    at += 8;
    return v;
  };
  need(1);
  const kind = buf[0];
  if (kind !== ROWS_RECORD && kind !== PUSH_RECORD) throw new Error(`not a row record (kind ${kind})`);
  at = 1;
  const pushedBy = kind === PUSH_RECORD ? str() : null;
  need(4);
  const n = buf.readUInt32LE(at);
  at += 4;
  const rows: RollupRow[] = [];
  for (let i = 0; i < n; i++) {
    const metric = str();
    const labels = str();
    const instance = pushedBy ?? str();
    const resolution = num();
    const bucket = num();
    const count = num();
    const sum = num();
    const min = num();
    const max = num();
    const errors = num();
    need(4);
    const len = buf.readUInt32LE(at);
    at += 4;
    let sketch: Buffer | null = null;
    if (len !== NO_SKETCH) {
      need(len);
      sketch = Buffer.from(buf.subarray(at, at + len)); // a copy: the segment's bytes can go
      at += len;
    }
    rows.push({ metric, labels, instance, resolution, bucket, count, sum, min, max, errors, sketch });
  }
  if (at !== buf.length) throw new Error(`${buf.length - at} bytes after the last row`);
  return rows;
}

// ---- the rows held -----------------------------------------------------------------------------

/** A row held, and the journal segment of its version (-1 once written to the store). */
interface Kept {
  row: RollupRow;
  segment: number;
}

/**
 * The rows held of one metric in one minute: labels -> instance -> row (nested rather than one key of
 * both: the labels string of a pushed row is hashed once, by the first lookup, and reused by the next).
 */
type Series = Map<string, Map<string, Kept>>;

/** The rows held of one minute, by metric. */
interface OpenBucket {
  bucket: number;
  metrics: Map<string, Series>;
}

/** What the open minutes say. */
export interface OpenMinutesLog extends JournalLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OpenMinutesOptions {
  /** Where rows are written (the store's rollups). */
  rollups: Pick<RollupRepository, 'upsert'>;
  /** The journal (see src/store/journal.ts). */
  journal: Journal;
  clock: Clock;
  /** Rows held at most; past it the oldest minutes are written early (`metrics.ingest.max_open_rows`). */
  maxRows: number;
  /** A minute is written this long after its end (default `SETTLE_MS`). */
  settleMs?: number;
  log?: OpenMinutesLog;
  /** Called with rows once they are written to the store (tests count writes with it). */
  onWritten?: (rows: readonly RollupRow[]) => void;
}

/** See the module comment. */
export class OpenMinutes {
  readonly #o: OpenMinutesOptions & { settleMs: number };
  readonly #buckets = new Map<number, OpenBucket>();
  /** Rows held not yet in the store, per journal segment. */
  readonly #pending = new Map<number, number>();
  #size = 0;
  /** Writes to the store, one after the other (a newer version is never overtaken by an older one). */
  #writes: Promise<unknown> = Promise.resolve();
  #draining = false;
  #settling: Promise<void> | null = null;
  #failing = false;
  #segmentSince: { segment: number; at: number } | null = null;
  #loop: Loop | null = null;
  /** Where journal records are encoded (written before the next is: reused, not allocated per push). */
  #record: Buffer | null = null;
  /** Rows written to the store since start (settled, early, late and replayed). */
  written = 0;
  /** Rows written before their minute settled, because more than `maxRows` were held. */
  writtenEarly = 0;

  constructor(o: OpenMinutesOptions) {
    this.#o = { settleMs: SETTLE_MS, ...o };
  }

  /** Rows held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Replays what the journal holds from before (a crash), writes it to the store and deletes those
   * segments; then checks for settled minutes every `SETTLE_CHECK_MS`. Returns the rows replayed.
   */
  async start(): Promise<number> {
    const j = this.#o.journal;
    let replayed = 0;
    let last = -1;
    const latest = new Map<string, RollupRow>();
    for (const rec of j.replay()) {
      last = rec.segment;
      let rows: RollupRow[];
      try {
        rows = decodeRows(rec.payload);
      } catch (err) {
        this.#o.log?.warn(
          { segment: rec.segment, err: (err as Error).message },
          'journal: a record that is not rows was skipped',
        );
        continue;
      }
      for (const r of rows) {
        latest.set(
          `${r.metric}\u0000${r.resolution}\u0000${r.bucket}\u0000${r.labels}\u0000${r.instance}`,
          r,
        );
        replayed++;
      }
    }
    if (latest.size > 0) {
      await this.#write([...latest.values()]);
      this.#o.log?.info(
        { rows: latest.size, records: replayed, dir: j.dir },
        `journal: ${latest.size} pushed rows from before the last stop written to the store`,
      );
    }
    if (last >= 0 || j.segments().length > 0) j.retireThrough(j.segment - 1);
    this.#loop ??= startLoop({
      clock: this.#o.clock,
      intervalMs: SETTLE_CHECK_MS,
      immediate: false,
      body: () => this.settle(),
      onError: (err) =>
        this.#o.log?.error({ err: (err as Error).message }, 'writing settled pushed minutes failed'),
    });
    return replayed;
  }

  /** Whether a row is held here rather than written at once (see the module comment). */
  holds(row: Pick<RollupRow, 'resolution' | 'bucket'>, now = this.#o.clock.now()): boolean {
    return (
      row.resolution === MINUTE_MS &&
      now < row.bucket + MINUTE_MS + this.#o.settleMs &&
      row.bucket <= now + MINUTE_MS
    );
  }

  /**
   * Takes in accepted rows: journaled first (one record: `record` when given, a binary push body of
   * exactly these rows, else `encodeRows`), then held, or written to the store at once (see
   * `holds`). Resolves once they are durable; throws when they could not be journaled (nothing
   * was taken) or, past `maxRows` with the store failing, refused.
   */
  async put(rows: readonly RollupRow[], slicer = new Slicer(), record: Buffer | null = null): Promise<void> {
    if (rows.length === 0) return;
    if (this.#failing && this.#size >= this.#o.maxRows) {
      throw new Error(
        `${this.#size} pushed rows held and the store cannot be written (metrics.ingest.max_open_rows ${this.#o.maxRows})`,
      );
    }
    const now = this.#o.clock.now();
    const segment = this.#o.journal.append([record ?? encodeRows(rows, this.#scratch(rows))]);
    if (this.#segmentSince?.segment !== segment) this.#segmentSince = { segment, at: now };
    const direct: RollupRow[] = [];
    let series: Series | null = null;
    let metric = '';
    let bucket = Number.NaN;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!this.holds(r, now)) {
        direct.push(r);
        continue;
      }
      // The rows of a push share their metric and minute: their map is looked up once.
      if (series === null || r.metric !== metric || r.bucket !== bucket) {
        metric = r.metric;
        bucket = r.bucket;
        series = this.#series(r);
      }
      this.#hold(series, r, segment);
      if (i % 256 === 255) {
        await slicer.pause();
        series = null; // (a settle may have dropped it meanwhile)
      }
    }
    if (direct.length > 0) await this.#write(direct);
    if (this.#size > this.#o.maxRows) await this.#writeEarly();
    else if (this.#due(now)) void this.settle().catch(() => {}); // (the loop logs a failure)
  }

  /** The row held for a key, if any. */
  get(key: Pick<RollupRow, 'metric' | 'labels' | 'instance' | 'resolution' | 'bucket'>): RollupRow | null {
    if (key.resolution !== MINUTE_MS) return null;
    return (
      this.#buckets.get(key.bucket)?.metrics.get(key.metric)?.get(key.labels)?.get(key.instance)?.row ?? null
    );
  }

  /** The rows held that a query asks for, oldest bucket first. */
  *rows(q: RollupQuery): Generator<RollupRow> {
    if (q.resolution !== MINUTE_MS) return;
    const buckets = [...this.#buckets.keys()]
      .filter((b) => b >= q.since && b < q.until)
      .sort((a, z) => a - z);
    const metrics = q.metrics && q.metrics.length > 0 ? q.metrics : null;
    for (const b of buckets) {
      const ob = this.#buckets.get(b);
      if (!ob) continue;
      for (const [metric, series] of ob.metrics) {
        if (metrics && !metrics.includes(metric)) continue;
        for (const byInstance of series.values()) {
          for (const k of byInstance.values()) if (!q.instance || k.row.instance === q.instance) yield k.row;
        }
      }
    }
  }

  /** Writes the minutes that have settled (and closes an old journal segment); one run at a time. */
  settle(now = this.#o.clock.now()): Promise<void> {
    this.#settling ??= this.#settle(now).finally(() => {
      this.#settling = null;
    });
    return this.#settling;
  }

  async #settle(now: number): Promise<void> {
    const settled = [...this.#buckets.keys()].filter((b) => now >= b + MINUTE_MS + this.#o.settleMs);
    if (settled.length > 0) await this.#drain(settled);
    const since = this.#segmentSince;
    if (since && since.segment === this.#o.journal.segment && now - since.at >= SEGMENT_MAX_AGE_MS) {
      this.#o.journal.rotate();
      this.#retire();
    }
  }

  /** Writes every row held and closes the journal (a clean stop leaves no segment behind). */
  async close(): Promise<void> {
    await this.#loop?.stop();
    this.#loop = null;
    await this.#writes.catch(() => {});
    try {
      await this.#drain([...this.#buckets.keys()]);
    } finally {
      this.#o.journal.close();
    }
    this.#retire();
  }

  /**
   * The buffer `rows` are encoded into: one kept for every record (up to `RECORD_SCRATCH_BYTES`), as
   * a buffer of a push's size is costly to allocate and the journal has written it before the next.
   */
  #scratch(rows: readonly RollupRow[]): Buffer | undefined {
    const size = recordBytes(rows);
    if (size > RECORD_SCRATCH_BYTES) return undefined;
    if (!this.#record || this.#record.length < size) {
      this.#record = Buffer.allocUnsafeSlow(
        Math.min(RECORD_SCRATCH_BYTES, Math.max(size, 2 * (this.#record?.length ?? 0))),
      );
    }
    return this.#record;
  }

  #due(now: number): boolean {
    for (const b of this.#buckets.keys()) if (now >= b + MINUTE_MS + this.#o.settleMs) return true;
    return false;
  }

  /** The rows held of a row's metric in its minute (made when there are none). */
  #series(r: RollupRow): Series {
    let ob = this.#buckets.get(r.bucket);
    if (!ob) {
      ob = { bucket: r.bucket, metrics: new Map() };
      this.#buckets.set(r.bucket, ob);
    }
    let series = ob.metrics.get(r.metric);
    if (!series) {
      series = new Map();
      ob.metrics.set(r.metric, series);
    }
    return series;
  }

  #hold(series: Series, r: RollupRow, segment: number): void {
    let byInstance = series.get(r.labels);
    if (!byInstance) {
      byInstance = new Map();
      series.set(r.labels, byInstance);
    }
    const kept = byInstance.get(r.instance);
    if (kept) {
      if (kept.segment >= 0) this.#release(kept.segment);
      kept.row = r;
      kept.segment = segment;
    } else {
      byInstance.set(r.instance, { row: r, segment });
      this.#size++;
    }
    this.#pending.set(segment, (this.#pending.get(segment) ?? 0) + 1);
  }

  #release(segment: number): void {
    const n = (this.#pending.get(segment) ?? 0) - 1;
    if (n > 0) this.#pending.set(segment, n);
    else this.#pending.delete(segment);
  }

  /** Past `maxRows`: writes the oldest minutes until at most half of it is held. */
  async #writeEarly(): Promise<void> {
    if (this.#draining) return this.#writes.then(() => {});
    const order = [...this.#buckets.values()].sort((a, z) => a.bucket - z.bucket);
    const chosen: number[] = [];
    let left = this.#size;
    for (const ob of order) {
      if (left <= this.#o.maxRows / 2) break;
      chosen.push(ob.bucket);
      for (const series of ob.metrics.values()) for (const i of series.values()) left -= i.size;
    }
    const before = this.written;
    await this.#drain(chosen);
    this.writtenEarly += this.written - before;
    this.#o.log?.warn(
      { rows: this.written - before, max: this.#o.maxRows },
      `more than metrics.ingest.max_open_rows (${this.#o.maxRows}) pushed rows held: ${this.written - before} rows of the oldest open minutes written early`,
    );
  }

  /**
   * Writes the rows held of some minutes, then drops those still at the version written (a version
   * that came meanwhile stays, to be written later), and deletes the journal segments no longer needed.
   */
  async #drain(buckets: readonly number[]): Promise<void> {
    // In the order of the store's key (metric, labels, instance, resolution, bucket): each row then
    // goes next to the one before in the key's index, instead of to a page anywhere in it (written in
    // the order they came, a settled minute of 20,000 series cost SQLite about three times as much).
    const batch: Kept[] = [];
    const rows: RollupRow[] = [];
    for (const b of buckets) {
      const ob = this.#buckets.get(b);
      if (!ob) continue;
      for (const metric of [...ob.metrics.keys()].sort()) {
        const series = ob.metrics.get(metric)!;
        for (const labels of [...series.keys()].sort()) {
          const byInstance = series.get(labels)!;
          for (const instance of [...byInstance.keys()].sort()) {
            const kept = byInstance.get(instance)!;
            batch.push(kept);
            rows.push(kept.row);
          }
        }
      }
    }
    if (rows.length === 0) return;
    this.#draining = true;
    try {
      await this.#write(rows);
    } finally {
      this.#draining = false;
    }
    for (let i = 0; i < batch.length; i++) {
      const k = batch[i]!;
      if (k.row !== rows[i] || k.segment < 0) continue;
      this.#release(k.segment);
      k.segment = -1;
    }
    for (const b of buckets) {
      const ob = this.#buckets.get(b);
      if (!ob) continue;
      for (const [metric, series] of ob.metrics) {
        for (const [labels, byInstance] of series) {
          for (const [instance, k] of byInstance) {
            if (k.segment >= 0) continue;
            byInstance.delete(instance);
            this.#size--;
          }
          if (byInstance.size === 0) series.delete(labels);
        }
        if (series.size === 0) ob.metrics.delete(metric);
      }
      if (ob.metrics.size === 0) this.#buckets.delete(b);
    }
    this.#retire();
  }

  /** Deletes the oldest closed segments whose rows are all in the store (or replaced). */
  #retire(): void {
    const j = this.#o.journal;
    let upTo = -1;
    for (const s of j.segments()) {
      if (s >= j.segment || this.#pending.has(s)) break;
      upTo = s;
    }
    if (upTo >= 0) j.retireThrough(upTo);
  }

  /** Writes rows to the store after the writes before them, in chunks with turns for the loop between. */
  #write(rows: readonly RollupRow[]): Promise<void> {
    const run = this.#writes.then(async () => {
      const slicer = new Slicer();
      try {
        for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
          const chunk = rows.slice(i, i + WRITE_CHUNK);
          await this.#o.rollups.upsert(chunk);
          this.written += chunk.length;
          this.#o.onWritten?.(chunk);
          await slicer.pause();
        }
        this.#failing = false;
      } catch (err) {
        this.#failing = true;
        throw err;
      }
    });
    this.#writes = run.catch(() => {});
    return run;
  }
}

/**
 * The store's rollups with the rows held by `open` in place of their stored versions (held rows are
 * never older than stored ones: the store only gets what was held, or rows of settled minutes).
 * Writes go to the store as they are (this process's own flushes, compaction's hourly rows).
 */
export class OpenMinutesRollups implements RollupRepository {
  constructor(
    readonly inner: RollupRepository,
    readonly open: OpenMinutes,
  ) {}

  upsert(rows: readonly RollupRow[]): Promise<void> {
    return this.inner.upsert(rows);
  }

  async query(q: RollupQuery): Promise<RollupRow[]> {
    const held = this.#held(q);
    const stored = await this.inner.query(q);
    if (!held) return stored;
    const out = stored.filter((r) => !held.has(r));
    for (const r of held.rows) out.push(r);
    return out.sort((a, z) => a.bucket - z.bucket);
  }

  async *pages(
    q: RollupQuery & { metrics: readonly string[] },
    pageSize = 256,
    slicer?: Slicer,
  ): AsyncGenerator<RollupRow[]> {
    const held = this.#held(q);
    for await (const rows of this.inner.pages(q, pageSize, slicer)) {
      yield held ? rows.filter((r) => !held.has(r)) : rows;
    }
    const rows = held?.rows ?? [];
    for (let i = 0; i < rows.length; i += pageSize) yield rows.slice(i, i + pageSize);
  }

  async get(
    key: Pick<RollupRow, 'metric' | 'labels' | 'instance' | 'resolution' | 'bucket'>,
  ): Promise<RollupRow | null> {
    return this.open.get(key) ?? this.inner.get(key);
  }

  countBefore(resolution: number, before: number): Promise<number> {
    return this.inner.countBefore(resolution, before);
  }

  countsByHour(resolution: number, since: number, until: number): Promise<Map<number, number>> {
    return this.inner.countsByHour(resolution, since, until);
  }

  oldestBucket(resolution: number): Promise<number | null> {
    return this.inner.oldestBucket(resolution);
  }

  deleteBefore(resolution: number, before: number): Promise<number> {
    return this.inner.deleteBefore(resolution, before);
  }

  /**
   * The rows held for a query, taken before the store is read: a minute written to the store (and
   * dropped from memory) while the store is read is then in one or the other, never in neither.
   * Null when none are held.
   */
  #held(q: RollupQuery): HeldRows | null {
    if (this.open.size === 0 || q.resolution !== MINUTE_MS) return null;
    const rows = [...this.open.rows(q)];
    return rows.length > 0 ? new HeldRows(rows) : null;
  }
}

/** Rows held at one moment, and a test of whether a stored row is one of their series-minutes. */
class HeldRows {
  readonly #keys = new Set<string>();
  readonly #buckets = new Set<number>();

  constructor(readonly rows: RollupRow[]) {
    for (const r of rows) {
      this.#buckets.add(r.bucket);
      this.#keys.add(heldKey(r));
    }
  }

  has(r: RollupRow): boolean {
    return this.#buckets.has(r.bucket) && this.#keys.has(heldKey(r));
  }
}

const heldKey = (r: RollupRow) => `${r.metric}\u0000${r.labels}\u0000${r.instance}\u0000${r.bucket}`;
