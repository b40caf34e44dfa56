/**
 * An append-only journal of binary records in segment files, for data that is acknowledged before it
 * reaches the database (pushed rollups held in memory until their minute settles, see
 * src/metrics/open-minutes.ts): each record is written with one `writev` before the caller answers,
 * so a crash of the process after that answer loses nothing, and the next start reads the records back.
 *
 * Written here rather than taken from a library: what is needed is a few dozen lines over `node:fs`
 * (length-prefixed, checksummed records appended to numbered files, deleted once their content is in
 * the database), and the packages that offer append-only logs either keep their own index and
 * compaction, or write asynchronously, which would acknowledge data still in the process's memory.
 *
 * A segment is `<dir>/<16-digit number>.journal`: an 8-byte header `PMJRNL01`, then records of
 * `[u32 LE payload length][u32 LE CRC-32 of the payload][payload]`. Reading stops at the first record
 * that is incomplete (the process died in the middle of writing it: a torn tail) or whose checksum or
 * length does not hold (damage): that record and the rest of its segment are dropped, never applied in
 * part, and a line says so. Segments are flushed to the disk (`fsync`) when the writer moves to the
 * next one and when it closes, as SQLite in WAL mode with `synchronous = NORMAL` syncs at its
 * checkpoints: a crash of the process loses nothing written, a power loss may lose the last seconds.
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';

/** The first bytes of every segment. */
export const SEGMENT_MAGIC = Buffer.from('PMJRNL01', 'latin1');
/** Bytes before each record's payload (its length and checksum). */
export const RECORD_HEADER_BYTES = 8;
/** A record's payload is at most this long; a longer length read back is damage. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;
/** The writer moves to a new segment past this many bytes (default). */
export const SEGMENT_BYTES = 64 * 1024 * 1024;

const SEGMENT_NAME = /^(\d{16})\.journal$/;

let table: Int32Array | null = null;

/** CRC-32 (IEEE, as zlib's) from a table: for a Node without `zlib.crc32` (before 20.15). */
export function crc32Table(data: Uint8Array): number {
  if (!table) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/**
 * CRC-32 of a record's payload: `zlib.crc32` where Node has it, else the same sum from a table, so
 * that a journal written under one Node reads back under another.
 */
export const crc32: (data: Uint8Array) => number = nativeCrc32 ?? crc32Table;

/** A record read back. */
export interface JournalRecord {
  /** The number of the segment it is in. */
  segment: number;
  payload: Buffer;
}

/** What a journal says while reading its segments back. */
export interface JournalLog {
  warn(obj: object, msg: string): void;
}

export interface JournalOptions {
  dir: string;
  /** Move to a new segment once the current one is this large (default `SEGMENT_BYTES`). */
  segmentBytes?: number;
  log?: JournalLog;
}

/** See the module comment. */
export class Journal {
  readonly dir: string;
  readonly #segmentBytes: number;
  readonly #log: JournalLog | undefined;
  /** Segments on disk (closed and current), oldest first, with their sizes. */
  readonly #segments = new Map<number, number>();
  #fd: number | null = null;
  /** The segment appends go to (opened on the first append after a rotation). */
  #current = 0;
  #bytes = 0;
  #closed = false;

  constructor(opts: JournalOptions) {
    this.dir = opts.dir;
    this.#segmentBytes = opts.segmentBytes ?? SEGMENT_BYTES;
    this.#log = opts.log;
    for (const n of this.#onDisk()) {
      const size = statSync(this.#path(n)).size;
      this.#segments.set(n, size);
      this.#bytes += size;
      this.#current = Math.max(this.#current, n);
    }
    this.#current++; // appends never go into a segment written by an earlier process
  }

  /** The segment the next record goes to. */
  get segment(): number {
    return this.#current;
  }

  /** Bytes of every segment on disk. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The numbers of the segments on disk, oldest first. */
  segments(): number[] {
    return [...this.#segments.keys()];
  }

  /**
   * Every record of the segments on disk, oldest first (read before the first append). A segment's
   * torn or damaged tail is dropped with a line on the log (see the module comment).
   */
  *replay(): Generator<JournalRecord> {
    for (const n of [...this.#segments.keys()]) {
      if (n >= this.#current) break;
      const file = this.#path(n);
      const buf = readFileSync(file);
      if (buf.length < SEGMENT_MAGIC.length || !buf.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) {
        this.#log?.warn(
          { file, bytes: buf.length },
          `journal: ${file} is not a journal segment (no PMJRNL01 header); its ${buf.length} bytes are ignored`,
        );
        continue;
      }
      let at = SEGMENT_MAGIC.length;
      while (at < buf.length) {
        const bad = recordProblem(buf, at);
        if (bad) {
          const torn = bad === 'incomplete';
          this.#log?.warn(
            { file, offset: at, dropped: buf.length - at },
            torn
              ? `journal: dropped a torn record at the end of ${file} (${buf.length - at} bytes at offset ${at}): the process stopped while writing it, and it was never acknowledged`
              : `journal: dropped a damaged record of ${file} and the rest of the segment (${buf.length - at} bytes from offset ${at}: ${bad})`,
          );
          break;
        }
        const len = buf.readUInt32LE(at);
        yield { segment: n, payload: buf.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + len) };
        at += RECORD_HEADER_BYTES + len;
      }
    }
  }

  /**
   * Appends one record (the concatenation of `parts`) with one write, returning its segment. Throws
   * when it cannot be written (the file is cut back to where it was, so later records stay readable).
   */
  append(parts: readonly Uint8Array[]): number {
    if (this.#closed) throw new Error('journal closed');
    let len = 0;
    for (const p of parts) len += p.length;
    if (len === 0 || len > MAX_RECORD_BYTES) throw new Error(`journal record of ${len} bytes`);
    const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
    header.writeUInt32LE(len, 0);
    header.writeUInt32LE(parts.length === 1 ? crc32(parts[0]!) : crc32(Buffer.concat(parts)), 4);
    if (this.#fd !== null && (this.#segments.get(this.#current) ?? 0) >= this.#segmentBytes) this.rotate();
    const fd = this.#open();
    const before = this.#segments.get(this.#current)!;
    try {
      writeAll(fd, [header, ...parts]);
    } catch (err) {
      try {
        ftruncateSync(fd, before);
      } catch {
        this.rotate(); // cannot cut it back: later records go to a segment of their own
      }
      throw err;
    }
    const written = RECORD_HEADER_BYTES + len;
    this.#segments.set(this.#current, before + written);
    this.#bytes += written;
    return this.#current;
  }

  /** Flushes and closes the current segment: the next append starts a new one. */
  rotate(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    this.#current++;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Deletes the closed segments numbered up to `segment` (their content is in the database). */
  retireThrough(segment: number): void {
    for (const [n, size] of this.#segments) {
      if (n > segment || (n === this.#current && this.#fd !== null)) break;
      rmSync(this.#path(n), { force: true });
      this.#segments.delete(n);
      this.#bytes -= size;
    }
  }

  /** Closes the current segment (flushed); appends are refused afterwards. */
  close(): void {
    if (this.#closed) return;
    this.rotate();
    this.#closed = true;
  }

  #open(): number {
    if (this.#fd !== null) return this.#fd;
    mkdirSync(this.dir, { recursive: true });
    const fd = openSync(this.#path(this.#current), 'wx');
    try {
      writeAll(fd, [SEGMENT_MAGIC]);
    } catch (err) {
      closeSync(fd);
      unlinkSync(this.#path(this.#current));
      throw err;
    }
    this.#fd = fd;
    this.#segments.set(this.#current, SEGMENT_MAGIC.length);
    this.#bytes += SEGMENT_MAGIC.length;
    return fd;
  }

  #onDisk(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .map((f) => SEGMENT_NAME.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  #path(n: number): string {
    return join(this.dir, `${String(n).padStart(16, '0')}.journal`);
  }
}

/** Why the record at `at` cannot be read (`incomplete`: the bytes end inside it), or null. */
function recordProblem(buf: Buffer, at: number): string | null {
  if (buf.length - at < RECORD_HEADER_BYTES) return 'incomplete';
  const len = buf.readUInt32LE(at);
  if (len === 0 || len > MAX_RECORD_BYTES) return `a length of ${len}`;
  if (buf.length - at - RECORD_HEADER_BYTES < len) return 'incomplete';
  const payload = buf.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + len);
  if (crc32(payload) !== buf.readUInt32LE(at + 4)) return 'checksum mismatch';
  return null;
}

/** Writes every byte of `parts` (a short write is continued). */
function writeAll(fd: number, parts: Uint8Array[]): void {
  let left = parts.filter((p) => p.length > 0);
  while (left.length > 0) {
    let n = writevSync(fd, left);
    const rest: Uint8Array[] = [];
    for (const p of left) {
      if (n >= p.length) {
        n -= p.length;
        continue;
      }
      rest.push(n > 0 ? p.subarray(n) : p);
      n = 0;
    }
    left = rest;
  }
}
