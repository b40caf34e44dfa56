/**
 * One log file that rotates. Callers append whole lines to an in-memory queue and return at once; one
 * asynchronous writer per file hands the queue to the OS in batches, rotates between whole lines (by size,
 * and daily), and on a write error (disk full, unwritable directory) keeps the queue, reports the problem and
 * retries, never throwing into the caller. A write that fails half way is cut back to the last whole line.
 */
import * as fs from 'node:fs';
import { readdir, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { fsCall, openLiveFile, writeFd } from './fd.js';
import { type LogStream, liveFileName, rotatedFileName } from './files.js';
import type { HealthSource, LogHealth } from './health.js';

const DAY_MS = 86_400_000;
/** Largest single write. */
const CHUNK_BYTES = 1024 * 1024;

/** How a sink behaves. */
export interface SinkOptions {
  dir: string;
  stream: LogStream;
  /** Rotate before a write would make the file larger than this (bytes). */
  maxSize: number;
  /** Also rotate at the first write of a new UTC day. */
  daily: boolean;
  clock: Clock;
  /** Lines queued beyond this many bytes (UTF-16 units) are dropped and counted. */
  maxBufferBytes: number;
  /** While degraded, retry writing at most this often (on the next line or flush). */
  retryIntervalMs: number;
  /** fdatasync at most this often while writing (and at rotation and close). */
  fsyncIntervalMs: number;
  health: LogHealth;
  /**
   * Called with each rotated file, renamed but maybe not yet synced and closed (`retired` resolves when it is),
   * to compress it and apply retention.
   */
  onRotated(path: string, retired: Promise<void>): void;
}

const liveSinks = new Set<RotatingFileSink>();
let exitHooked = false;
/** Writes what is still queued synchronously when the process exits (normal end, uncaught exception). */
function onExitFlush(sink: RotatingFileSink): void {
  liveSinks.add(sink);
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const s of liveSinks) s.flushSync();
  });
}

/** The rotating file of one stream. */
export class RotatingFileSink implements HealthSource {
  readonly file: string;
  readonly #o: SinkOptions;
  readonly #name: string;
  #queue: string[] = [];
  #queuedChars = 0;
  #enqueued = 0;
  #written = 0;
  #inflight = 0;
  #fd: number | null = null;
  #size = 0;
  #day = -1;
  #lastSync = 0;
  #syncing = false;
  #lastRotation = { at: Number.NaN, seq: 0 };
  #taken: Set<string> | null = null;
  #drain: Promise<void> | null = null;
  #scheduled = false;
  #error: string | null = null;
  #since: number | null = null;
  #overflowSince: number | null = null;
  #nextRetryAt = 0;
  #closed = false;
  #waiters: { target: number; resolve: () => void }[] = [];
  dropped = 0;

  constructor(opts: SinkOptions) {
    this.#o = opts;
    this.#name = liveFileName(opts.stream);
    this.file = join(opts.dir, this.#name);
    onExitFlush(this);
  }

  /** The current problem (write error, or lines being dropped because the queue is full), or null. */
  problem(): { error: string; since: number } | null {
    if (this.#error !== null) return { error: this.#error, since: this.#since! };
    if (this.#overflowSince !== null) {
      return { error: `${this.#name}: write queue full, lines dropped`, since: this.#overflowSince };
    }
    return null;
  }

  /** Queues one whole line (ending in `\n`); never throws, never waits. */
  write(line: string): void {
    if (this.#closed || this.#queuedChars + line.length > this.#o.maxBufferBytes) {
      this.dropped++;
      if (this.#closed) return;
      if (this.#overflowSince === null) {
        this.#overflowSince = this.#o.clock.now();
        this.#o.health.changed();
      }
      // A full queue while degraded: this line is dropped, but it still triggers the retry when due.
      this.#kick(false);
      return;
    }
    this.#queue.push(line);
    this.#queuedChars += line.length;
    this.#enqueued++;
    this.#kick(false);
  }

  /** Retries writing what is queued now if degraded and the retry interval has passed (or `force`). */
  retry(force: boolean): void {
    if (this.#error !== null) this.#kick(force);
  }

  /** Resolves when every line queued before the call is written, or writing failed (a retry is made first). */
  flush(): Promise<void> {
    if (this.#written >= this.#enqueued && !this.#drain) return Promise.resolve();
    const target = this.#enqueued;
    return new Promise((resolve) => {
      this.#waiters.push({ target, resolve });
      this.#kick(true);
    });
  }

  /**
   * Stops accepting lines, writes what is queued (one retry if degraded), syncs and closes the file; lines that
   * could not be written are counted as dropped.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.flush();
    await this.#drain;
    this.dropped += this.#queue.length;
    this.#queue = [];
    this.#queuedChars = 0;
    liveSinks.delete(this);
    const fd = this.#fd;
    this.#fd = null;
    if (fd !== null) {
      await fsCall((cb) => fs.fdatasync(fd, cb)).catch(() => {});
      await fsCall((cb) => fs.close(fd, cb)).catch(() => {});
    }
  }

  /** Last resort at process exit: writes the queue (minus the write in flight) synchronously, ignoring errors. */
  flushSync(): void {
    const lines = this.#queue.slice(this.#inflight);
    if (lines.length === 0) return;
    try {
      const fd = this.#fd ?? fs.openSync(this.file, 'a', 0o640);
      const buf = Buffer.from(lines.join(''));
      let off = 0;
      while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
      this.#queue.length = this.#inflight;
    } catch {
      // Nothing more can be done while exiting.
    }
  }

  #kick(force: boolean): void {
    if (this.#drain || this.#scheduled || this.#queue.length === 0) return;
    if (this.#error !== null && !force && this.#o.clock.now() < this.#nextRetryAt) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#drain || this.#queue.length === 0) return this.#settle();
      this.#drain = this.#run().finally(() => {
        this.#drain = null;
        this.#settle();
      });
    });
  }

  #settle(): void {
    if (this.#waiters.length === 0) return;
    const give = this.#error !== null;
    this.#waiters = this.#waiters.filter((w) => {
      if (!give && this.#written < w.target && this.#queue.length > 0) return true;
      w.resolve();
      return false;
    });
  }

  async #run(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        if (this.#fd === null) await this.#open();
        const now = this.#o.clock.now();
        if (this.#o.daily && this.#size > 0 && Math.floor(now / DAY_MS) !== this.#day) {
          await this.#rotate();
          continue;
        }
        const chunk = this.#chunk();
        if (chunk.count === 0) {
          await this.#rotate();
          continue;
        }
        if (this.#size === 0) this.#day = Math.floor(now / DAY_MS);
        await this.#writeChunk(chunk);
        if (this.#error !== null) {
          this.#error = null;
          this.#since = null;
          this.#o.health.changed();
        }
        if (this.#overflowSince !== null && this.#queuedChars < this.#o.maxBufferBytes / 2) {
          this.#overflowSince = null;
          this.#o.health.changed();
        }
        if (now - this.#lastSync >= this.#o.fsyncIntervalMs && this.#fd !== null) this.#sync(now);
        this.#settle();
      }
    } catch (err) {
      this.#fail(err);
    }
  }

  /** The next lines to write: as many as fit in the file and in one write; 0 when the file must rotate first. */
  #chunk(): { count: number; bytes: number; chars: number; lens: number[] } {
    const room = Math.min(CHUNK_BYTES, this.#o.maxSize - this.#size);
    const lens: number[] = [];
    let bytes = 0;
    let chars = 0;
    for (const line of this.#queue) {
      const b = Buffer.byteLength(line);
      if (bytes + b > room) {
        // A line larger than a whole file goes alone into a fresh one.
        if (lens.length === 0 && this.#size === 0) {
          lens.push(b);
          bytes = b;
          chars = line.length;
        }
        break;
      }
      lens.push(b);
      bytes += b;
      chars += line.length;
    }
    return { count: lens.length, bytes, chars, lens };
  }

  async #writeChunk(chunk: { count: number; bytes: number; chars: number; lens: number[] }): Promise<void> {
    const fd = this.#fd!;
    const text = chunk.count === 1 ? this.#queue[0]! : this.#queue.slice(0, chunk.count).join('');
    const buf = Buffer.from(text);
    let off = 0;
    this.#inflight = chunk.count;
    try {
      while (off < buf.length) off += await writeFd(fd, buf, off, buf.length - off);
    } catch (err) {
      // Keep what was written as whole lines; cut a partial line off so no line is ever torn.
      let whole = 0;
      let wholeBytes = 0;
      let wholeChars = 0;
      while (whole < chunk.count && wholeBytes + chunk.lens[whole]! <= off) {
        wholeBytes += chunk.lens[whole]!;
        wholeChars += this.#queue[whole]!.length;
        whole++;
      }
      if (off > wholeBytes) {
        // If this fails too, the file is left without a final newline, which the next open repairs.
        await fsCall((cb) => fs.ftruncate(fd, this.#size + wholeBytes, cb)).catch(() => {});
      }
      this.#consume(whole, wholeBytes, wholeChars);
      throw err;
    } finally {
      this.#inflight = 0;
    }
    this.#consume(chunk.count, chunk.bytes, chunk.chars);
  }

  #consume(count: number, bytes: number, chars: number): void {
    this.#queue.splice(0, count);
    this.#queuedChars -= chars;
    this.#written += count;
    this.#size += bytes;
  }

  async #open(): Promise<void> {
    const live = await openLiveFile(this.file, this.#o.dir, this.#o.clock.now());
    this.#fd = live.fd;
    this.#size = live.size;
    this.#day = Math.floor(live.lastTime / DAY_MS);
    this.#lastSync = this.#o.clock.now();
  }

  /** Starts an fdatasync without waiting for it (writes go on meanwhile); one at a time. */
  #sync(now: number): void {
    if (this.#syncing || this.#fd === null) return;
    this.#syncing = true;
    this.#lastSync = now;
    fs.fdatasync(this.#fd, () => {
      this.#syncing = false;
    });
  }

  /**
   * Renames the live file to its rotated name and opens a new one; syncing and closing the old descriptor,
   * compression and retention happen afterwards, in the background, so writing resumes at once.
   */
  async #rotate(): Promise<void> {
    // Names taken are read once (files of earlier runs), then tracked here: this sink is the only writer.
    this.#taken ??= new Set(await readdir(this.#o.dir).catch(() => []));
    const at = this.#o.clock.now();
    let seq = at === this.#lastRotation.at ? this.#lastRotation.seq + 1 : 1;
    let name = rotatedFileName(this.#o.stream, at, seq);
    while (this.#taken.has(name) || this.#taken.has(`${name}.gz`))
      name = rotatedFileName(this.#o.stream, at, ++seq);
    this.#taken.add(name);
    const target = join(this.#o.dir, name);
    this.#lastRotation = { at, seq };
    const fd = this.#fd!;
    let renamed = true;
    try {
      await rename(this.file, target);
    } catch (err) {
      // The live file was removed by someone else: there is nothing to rotate.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      renamed = false;
    }
    this.#fd = null;
    this.#size = 0;
    const retire = (async () => {
      await fsCall((cb) => fs.fdatasync(fd, cb)).catch(() => {});
      await fsCall((cb) => fs.close(fd, cb)).catch(() => {});
    })();
    if (renamed) this.#o.onRotated(target, retire);
    await this.#open();
  }

  #fail(err: unknown): void {
    const now = this.#o.clock.now();
    if (this.#error === null) this.#since = now;
    this.#error = `${basename(this.file)}: ${errorMessage(err)}`;
    this.#nextRetryAt = now + this.#o.retryIntervalMs;
    // Reopened on retry: the directory may be recreated, a full file replaced.
    if (this.#fd !== null) fs.close(this.#fd, () => {});
    this.#fd = null;
    this.#o.health.changed();
  }
}
