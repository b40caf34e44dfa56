/**
 * The minutes of the alert windows, kept between evaluations: a hub evaluates its rules on every
 * push (each push is fresh data), and reading every row of the window again at each evaluation would
 * be 100,000 rows for a 5-minute window over 20,000 series. Here each minute of a metric is read from the
 * store once, then kept up to date with what this process writes (pushes it accepts, its own flushes):
 *
 * - a minute still filling (until `settleMs` after its end: pushers send a minute again each time
 *   it grows) is kept row by row, each write replacing its series' row, and beside the rows their
 *   sum per label set over the instances, kept up to date as rows are replaced (the old version's
 *   counts and sketch bins taken away, the new one's added): an evaluation reads a few hundred sums
 *   instead of merging 20,000 rows' sketches each time. A version that is not a superset of the one
 *   it replaces (fewer values, a lower max) has its label set summed again from its rows at the next read;
 * - a settled minute is merged per label set over all instances (a few hundred entries instead of
 *   20,000 rows; alert windows group by labels, never by instance); a row written for it later (a
 *   pusher catching up after an outage) drops it, to be read again.
 *
 * Another process writing the same store (several instances on PostgreSQL) says which minutes it
 * wrote through the store's rollup feed (src/store/rollup-feed.ts), and the engine drops those
 * minutes (`forget`); with `ttlMs` a minute is also read again once it is that old, in case a
 * notification was lost. This process's unflushed buckets win over its stored rows, as in
 * `readEntryPages`.
 */
import type { Clock } from '../core/clock.js';
import type { Slicer } from '../core/slice.js';
import type { RollupRow } from '../domain/rollup.js';
import type { Store } from '../store/index.js';
import { EntryMerger } from './merge.js';
import {
  EntryGroups,
  entryFromRow,
  type GroupOptions,
  memoryEntry,
  type ReadRange,
  type RollupEntry,
} from './read.js';
import type { Recorder } from './recorder.js';
import { emptyStats, MINUTE_MS, mergeStats, type RollupStats } from './rollup.js';
import { SketchSum } from './sketch.js';

/** The rows of one label set in a minute still filling (other instances'), and their sum. */
interface LabelSet {
  labelsJson: string;
  /** Row by instance. */
  rows: Map<string, RollupEntry>;
  /** The sum of the rows (its `sketch` unused: the bins are in `bins`). */
  stats: RollupStats;
  bins: SketchSum;
  /** False when the sum could not follow a replacement: summed again from `rows` at the next read. */
  exact: boolean;
  /** The sum as an entry, until a row changes. */
  entry: RollupEntry | null;
}

/** One minute of one metric. */
interface Block {
  metric: string;
  bucket: number;
  /** Other instances' rows by label set, while the minute may still change. */
  raw: Map<string, LabelSet> | null;
  /** This process's own rows by labels (its unflushed buckets win over them), while raw. */
  own: Map<string, RollupEntry>;
  /** Merged per label set, once settled. */
  merged: RollupEntry[] | null;
  /** Written while the block was being read from the store (the store read must not undo them). */
  fresh: Set<string> | null;
  /** The merge under way, and whether a row was written since it began. */
  merging: Promise<void> | null;
  dirty: boolean;
  builtAt: number;
  usedAt: number;
  ready: Promise<void>;
}

/** What the blocks need. */
export interface WindowBlocksOptions {
  store: Store;
  recorder: Recorder;
  clock: Clock;
  /** A minute is settled this long after its end (default 30 s: three pushes). */
  settleMs?: number;
  /** Read a minute from the store again once it is this old (other writers); default never. */
  ttlMs?: number;
  /** Minutes kept, all metrics (default 600); the least recently read go first. */
  maxBlocks?: number;
}

/** Rows of a raw block handed out at a time (the reader yields between them). */
const PAGE = 512;

const key = (metric: string, bucket: number) => `${metric}\u0000${bucket}`;

/** Queries whose settled minutes are kept grouped (the least recently used go first). */
const MAX_KEPT_GROUPS = 256;

/** What makes two queries group the same entries the same way. */
function groupsKey(metric: string, o: GroupOptions): string {
  return JSON.stringify([metric, o.metric ?? null, o.filter ?? null, o.groupBy ?? [], o.withSketch]);
}

/** The minutes of alert windows, kept between reads (see the module comment). */
export class WindowBlocks {
  readonly #o: Required<Omit<WindowBlocksOptions, 'store' | 'recorder' | 'clock'>> &
    Pick<WindowBlocksOptions, 'store' | 'recorder' | 'clock'>;
  readonly #blocks = new Map<string, Block>();
  /** Per query (`groupsKey`): its settled minutes grouped, and the blocks they came from. */
  readonly #settledGroups = new Map<string, { blocks: Block[]; groups: EntryGroups }>();

  constructor(o: WindowBlocksOptions) {
    this.#o = { settleMs: 30_000, ttlMs: Number.POSITIVE_INFINITY, maxBlocks: 600, ...o };
  }

  /** Minutes held. */
  get size(): number {
    return this.#blocks.size;
  }

  /**
   * Takes in rows this process has just written to the store; their sketches are kept as they are,
   * or copied with `copy` (bytes that their writer reuses, as the flush's encoding memory).
   */
  written(rows: readonly RollupRow[], copy = false): void {
    // The rows of a push share their metric and minute: the block is looked up again only when they change.
    let metric: string | null = null;
    let bucket = Number.NaN;
    let b: Block | undefined;
    for (const r of rows) {
      if (r.resolution !== this.#o.recorder.resolution) continue;
      if (r.metric !== metric || r.bucket !== bucket) {
        metric = r.metric;
        bucket = r.bucket;
        b = this.#blocks.get(key(metric, bucket));
        if (b && !b.raw) {
          this.#blocks.delete(key(metric, bucket)); // settled, then written again: read it afresh
          b = undefined;
        }
      }
      if (!b) continue;
      this.#put(b, entryFromRow(copy && r.sketch ? { ...r, sketch: Buffer.from(r.sketch) } : r));
      b.fresh?.add(`${r.instance}\u0000${r.labels}`);
      b.dirty = true;
    }
  }

  /** Drops a kept minute (another process wrote rows of it): the next read takes it from the store. */
  forget(metric: string, bucket: number): void {
    this.#blocks.delete(key(metric, bucket));
  }

  /** Drops every kept minute (writes of other processes may have been missed). */
  forgetAll(): void {
    this.#blocks.clear();
  }

  /**
   * Every entry of `metric` in the minutes of `range` (at most an hour of them), with this process's
   * unflushed buckets in place of its stored rows; in pages, yielding between them (`slicer`).
   */
  async *entries(metric: string, range: ReadRange, slicer: Slicer): AsyncGenerator<RollupEntry[]> {
    const res = this.#o.recorder.resolution;
    const memory = new Map<string, RollupEntry>();
    for (const m of this.#o.recorder.memoryBuckets(new Set([metric]))) {
      if (m.bucket < range.from || m.bucket >= range.until) continue;
      memory.set(`${m.labelsJson}\u0000${m.bucket}`, memoryEntry(m));
    }
    const first = Math.ceil(range.from / res) * res;
    for (let bucket = first; bucket < range.until; bucket += res) {
      const b = await this.#block(metric, bucket, slicer);
      if (b.merged) {
        if (b.merged.length > 0) yield b.merged;
        continue;
      }
      // (A block merged or written meanwhile leaves this iteration on its rows as they were.)
      let page: RollupEntry[] = [];
      for (const set of b.raw!.values()) {
        page.push(snapshotEntry(sumEntry(b, set)));
        if (page.length < PAGE) continue;
        yield page;
        page = [];
        await slicer.pause();
      }
      for (const e of b.own.values()) {
        if (memory.has(`${e.labelsJson}\u0000${bucket}`)) continue;
        page.push(e);
      }
      if (page.length > 0) yield page;
      await slicer.pause();
    }
    if (memory.size > 0) yield [...memory.values()];
    this.#evict();
  }

  /**
   * The entries of `metric` in the minutes of `range` (at most an hour of them) grouped as `opts` says,
   * as `entries` gives them. The settled minutes are grouped once per query and kept beside the blocks
   * (until one of those minutes is dropped or the window moves on): an evaluation on each push then
   * adds only the minutes still filling to a copy of that, instead of every minute of its window.
   */
  async groups(metric: string, range: ReadRange, opts: GroupOptions, slicer: Slicer): Promise<EntryGroups> {
    const res = this.#o.recorder.resolution;
    const memory = new Map<string, RollupEntry>();
    for (const m of this.#o.recorder.memoryBuckets(new Set([metric]))) {
      if (m.bucket < range.from || m.bucket >= range.until) continue;
      memory.set(`${m.labelsJson}\u0000${m.bucket}`, memoryEntry(m));
    }
    const blocks: Block[] = [];
    const first = Math.ceil(range.from / res) * res;
    for (let bucket = first; bucket < range.until; bucket += res)
      blocks.push(await this.#block(metric, bucket, slicer));
    const settled = blocks.filter((b) => b.merged !== null);
    const key = groupsKey(metric, opts);
    let kept = this.#settledGroups.get(key);
    if (!kept || kept.blocks.length !== settled.length || kept.blocks.some((b, i) => b !== settled[i])) {
      const g = new EntryGroups(opts);
      for (const b of settled) {
        g.add(b.merged!);
        await slicer.pause();
      }
      kept = { blocks: settled, groups: g };
      this.#settledGroups.delete(key);
      this.#settledGroups.set(key, kept);
      if (this.#settledGroups.size > MAX_KEPT_GROUPS)
        this.#settledGroups.delete(this.#settledGroups.keys().next().value!);
    }
    const out = kept.groups.clone();
    const inKept = new Set(kept.blocks);
    for (const b of blocks) {
      if (inKept.has(b)) continue;
      if (b.merged) {
        out.add(b.merged); // (merged since: its rows as they were)
        continue;
      }
      let page: RollupEntry[] = [];
      for (const set of b.raw!.values()) {
        page.push(sumEntry(b, set));
        if (page.length < PAGE) continue;
        out.add(page);
        page = [];
        await slicer.pause();
      }
      for (const e of b.own.values()) if (!memory.has(`${e.labelsJson}\u0000${b.bucket}`)) page.push(e);
      if (page.length > 0) out.add(page);
      await slicer.pause();
    }
    if (memory.size > 0) out.add([...memory.values()]);
    this.#evict();
    return out;
  }

  /** The block of a minute: kept, or read from the store now (merged at once when settled). */
  async #block(metric: string, bucket: number, slicer: Slicer): Promise<Block> {
    const now = this.#o.clock.now();
    const k = key(metric, bucket);
    let b = this.#blocks.get(k);
    if (b && now - b.builtAt >= this.#o.ttlMs) {
      this.#blocks.delete(k);
      b = undefined;
    }
    if (!b) {
      const block: Block = {
        metric,
        bucket,
        raw: new Map(),
        own: new Map(),
        merged: null,
        fresh: new Set(),
        merging: null,
        dirty: false,
        builtAt: now,
        usedAt: now,
        ready: Promise.resolve(),
      };
      block.ready = this.#read(block, slicer);
      this.#blocks.set(k, block);
      b = block;
    }
    b.usedAt = now;
    await b.ready;
    if (b.raw && !b.merging && this.#settled(b, this.#o.clock.now())) {
      b.merging = this.#merge(b, slicer);
      await b.merging;
    }
    return b;
  }

  /** Reads a block's rows from the store (skipping those written meanwhile, which are newer). */
  async #read(b: Block, slicer: Slicer): Promise<void> {
    const q = {
      metrics: [b.metric],
      resolution: this.#o.recorder.resolution,
      since: b.bucket,
      until: b.bucket + 1,
    };
    try {
      for await (const rows of this.#o.store.rollups.pages(q, undefined, slicer)) {
        for (const r of rows) {
          const k = `${r.instance}\u0000${r.labels}`;
          if (!b.fresh!.has(k)) this.#put(b, entryFromRow(r));
        }
        await slicer.pause();
      }
    } catch (err) {
      this.#blocks.delete(key(b.metric, b.bucket));
      throw err;
    }
    b.fresh = null;
  }

  /** Whether a minute is over (and its last pushes in), with no unflushed bucket of it in memory. */
  #settled(b: Block, now: number): boolean {
    if (now < b.bucket + MINUTE_MS + this.#o.settleMs) return false;
    for (const m of this.#o.recorder.memoryBuckets(new Set([b.metric])))
      if (m.bucket === b.bucket) return false;
    return true;
  }

  /**
   * Merges a settled block's rows per label set (all instances together), in slices; a row written
   * meanwhile leaves the block row by row (merged at a later read).
   */
  async #merge(b: Block, slicer: Slicer): Promise<void> {
    const raw = b.raw!;
    b.dirty = false;
    const merger = new EntryMerger();
    let i = 0;
    const add = (e: RollupEntry) =>
      merger.add(e.metric, e.labelsJson, '', b.bucket, e, true, b.bucket, e.resolution, e.labelsJson, '');
    for (const set of raw.values()) {
      for (const e of set.rows.values()) {
        add(e);
        if (++i % 256 === 0) await slicer.pause();
      }
    }
    for (const e of b.own.values()) add(e);
    if (!b.dirty && b.raw === raw) {
      b.merged = merger.entries();
      b.raw = null;
      b.own = new Map();
    }
    b.merging = null;
  }

  /** Puts a row into a raw block, in place of the version of its series it had. */
  #put(b: Block, e: RollupEntry): void {
    b.dirty = true;
    if (e.instance === this.#o.recorder.instance) {
      b.own.set(e.labelsJson, e);
      return;
    }
    let set = b.raw!.get(e.labelsJson);
    if (!set) {
      set = {
        labelsJson: e.labelsJson,
        rows: new Map(),
        stats: emptyStats(),
        bins: new SketchSum(),
        exact: true,
        entry: null,
      };
      b.raw!.set(e.labelsJson, set);
    }
    const old = set.rows.get(e.instance);
    set.rows.set(e.instance, e);
    set.entry = null;
    if (!set.exact) return;
    if (old && old.count > 0) {
      // Only a version that grew from the old one (what a pusher re-sending its minute writes) can be
      // followed: min and max cannot be taken back out of a sum.
      const grew = e.count >= old.count && e.min <= old.min && e.max >= old.max;
      if (!grew || !takeOut(set, old)) {
        set.exact = false;
        return;
      }
    }
    addIn(set, e);
  }

  /** Drops the least recently read minutes beyond `maxBlocks`, and those older than an hour. */
  #evict(): void {
    const oldest = this.#o.clock.now() - 2 * 60 * MINUTE_MS;
    for (const [k, b] of this.#blocks) if (b.bucket < oldest) this.#blocks.delete(k);
    if (this.#blocks.size <= this.#o.maxBlocks) return;
    const byUse = [...this.#blocks].sort((a, z) => a[1].usedAt - z[1].usedAt);
    for (const [k] of byUse.slice(0, this.#blocks.size - this.#o.maxBlocks)) this.#blocks.delete(k);
  }
}

/** Adds a row to its label set's sum. */
function addIn(set: LabelSet, e: RollupEntry): void {
  if (e.count <= 0) return;
  mergeStats(set.stats, e);
  // An unreadable sketch loses its quantiles, never the counts (as in every read).
  if (e.sketchBytes) {
    set.bins.addBytes(e.sketchBytes);
    return;
  }
  const sketch = e.sketch();
  if (sketch && sketch.count > 0) set.bins.addSketch(sketch);
}

/** Takes a row back out of its label set's sum; false when its sketch cannot be taken out. */
function takeOut(set: LabelSet, e: RollupEntry): boolean {
  if (e.sketchBytes ? !set.bins.addBytes(e.sketchBytes, -1) : e.sketch() !== null) return false;
  set.stats.count -= e.count;
  set.stats.sum -= e.sum;
  set.stats.errors -= e.errors;
  return true;
}

/** A label set's rows summed as one entry (of no instance), summed again from its rows when needed. */
function sumEntry(b: Block, set: LabelSet): RollupEntry {
  if (set.entry) return set.entry;
  if (!set.exact) {
    set.stats = emptyStats();
    set.bins = new SketchSum();
    for (const e of set.rows.values()) addIn(set, e);
    set.exact = true;
  }
  const { count, sum, min, max, errors } = set.stats;
  const bins = set.bins;
  // The live sum (a grouping adds its bins at once; a snapshot of each at every evaluation was a
  // good part of what a hub allocates): `entries` hands out snapshots instead.
  const entry: RollupEntry = {
    metric: b.metric,
    labelsJson: set.labelsJson,
    instance: '',
    resolution: set.rows.values().next().value?.resolution ?? 0,
    bucket: b.bucket,
    count,
    sum,
    min,
    max,
    errors,
    sketch: () => (count > 0 ? bins.snapshot() : null),
    sketchBytes: null,
    sketchSum: count > 0 ? bins : null,
  };
  set.entry = entry;
  return entry;
}

/** An entry of a label set's sum as it is now, for a reader that uses it later (see `entries`). */
function snapshotEntry(e: RollupEntry): RollupEntry {
  const sketch = e.sketch();
  return { ...e, sketch: () => sketch, sketchSum: null };
}
