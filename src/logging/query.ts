/** Reading the logs back: the last lines of a stream (live and rotated files, gzipped too), and following. */
import { createReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Clock } from '../core/clock.js';
import { type LogStream, listRotated, liveFileName } from './files.js';

/** One parsed log line. */
export interface LogLine {
  [key: string]: unknown;
  time: number;
  level: number;
  msg?: string;
}

/** What to read. */
export interface TailOptions {
  dir: string;
  stream?: LogStream;
  /** How many lines at most (the newest), default 100. */
  lines?: number;
  /** Only lines containing this text (case-insensitive, matched against the raw JSON line). */
  grep?: string;
  /** Only lines with `time` at or after this (ms). */
  since?: number;
  /** Only lines with `time` at or before this (ms). */
  until?: number;
  /** Read the live file only up to this byte offset (where a follow then starts: see {@link liveFilePosition}). */
  liveBytes?: number;
}

const READ_CHUNK = 64 * 1024;
// Lines are written within moments of being logged, except while the logger is degraded (then they wait in
// memory): a rotated file more than this after `until` is taken to hold only later lines.
const UNTIL_SLACK_MS = 60 * 60_000;

type Matcher = (raw: string) => LogLine | null;

const LEVEL_NUMBERS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/**
 * A parsed line in pino's shape: an ECS line (`logs.format: ecs`) has its `@timestamp`, `log.level`,
 * `message` and `log.logger` read as `time` (ms), `level` (number), `msg` and `stream`; its other fields
 * are kept. A directory can hold both formats (the format was changed); each line is read as it is.
 */
export function asLogLine(v: Record<string, unknown>): Record<string, unknown> {
  const ts = v['@timestamp'];
  if (typeof ts !== 'string' || v.time !== undefined) return v;
  const { '@timestamp': _t, 'log.level': level, message, 'log.logger': logger, ...rest } = v;
  const out: Record<string, unknown> = {
    time: Date.parse(ts),
    level: typeof level === 'string' ? (LEVEL_NUMBERS[level] ?? level) : level,
    ...(logger !== undefined ? { stream: logger } : {}),
    ...rest,
  };
  if (message !== undefined) out.msg = message;
  return out;
}

function matcher(opts: { grep?: string; since?: number; until?: number }): Matcher {
  const grep = opts.grep ? opts.grep.toLowerCase() : null;
  return (raw) => {
    if (raw.charCodeAt(0) !== 123 /* { */) return null;
    if (grep !== null && !raw.toLowerCase().includes(grep)) return null;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      return null;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    v = asLogLine(v as Record<string, unknown>);
    const t = (v as { time?: unknown }).time;
    if (opts.since !== undefined && !(typeof t === 'number' && t >= opts.since)) return null;
    if (opts.until !== undefined && !(typeof t === 'number' && t <= opts.until)) return null;
    return v as LogLine;
  };
}

/** Complete lines of an open file from the end backwards (a last line without its newline is skipped). */
async function* linesBackward(fh: FileHandle, upTo?: number): AsyncGenerator<string> {
  const size = (await fh.stat()).size;
  let pos = upTo === undefined ? size : Math.min(size, upTo);
  let carry: Buffer = Buffer.alloc(0);
  let partial = true;
  while (pos > 0) {
    const len = Math.min(READ_CHUNK, pos);
    pos -= len;
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, pos);
    const data =
      carry.length > 0 ? Buffer.concat([buf.subarray(0, bytesRead), carry]) : buf.subarray(0, bytesRead);
    let end = data.length;
    while (end > 0) {
      const nl = data.lastIndexOf(10, end - 1);
      if (nl === -1) break;
      if (partial) partial = false;
      else yield data.toString('utf8', nl + 1, end);
      end = nl;
    }
    carry = data.subarray(0, end);
  }
  if (!partial && carry.length > 0) yield carry.toString('utf8');
}

async function lastOfPlain(
  path: string,
  n: number,
  match: Matcher,
  upTo?: number,
): Promise<LogLine[] | null> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const out: LogLine[] = [];
    for await (const raw of linesBackward(fh, upTo)) {
      const line = match(raw);
      if (line && out.push(line) >= n) break;
    }
    return out.reverse();
  } finally {
    await fh.close();
  }
}

async function lastOfGzip(path: string, n: number, match: Matcher): Promise<LogLine[] | null> {
  const file = createReadStream(path);
  const gunzip = createGunzip();
  file.on('error', (err) => gunzip.destroy(err));
  file.pipe(gunzip);
  const ring: LogLine[] = [];
  const take = (raw: string) => {
    const line = match(raw);
    if (!line) return;
    // Trimmed in batches: amortized O(1) per line.
    if (ring.push(line) > 2 * n) ring.splice(0, ring.length - n);
  };
  let carry: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
        take(data.toString('utf8', start, nl));
        start = nl + 1;
      }
      carry = data.subarray(start);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // A damaged or truncated archive: keep what could be read.
  } finally {
    file.destroy();
    gunzip.destroy();
  }
  return ring.slice(-n);
}

/**
 * The last `lines` lines of a stream matching the filters, oldest first (newest last), reading the live file
 * from its end and, when more are needed, the rotated files (gzipped or not) from newest to oldest.
 */
export async function tailLogs(opts: TailOptions): Promise<LogLine[]> {
  const stream = opts.stream ?? 'application';
  const want = opts.lines ?? 100;
  if (want <= 0) return [];
  const match = matcher(opts);
  const files = [
    ...(await listRotated(opts.dir, stream)).map((f) => ({ path: f.path, gzip: f.gzip, at: f.at })),
    { path: join(opts.dir, liveFileName(stream)), gzip: false, at: Number.POSITIVE_INFINITY },
  ];
  const parts: LogLine[][] = [];
  let count = 0;
  for (let i = files.length - 1; i >= 0 && count < want; i--) {
    const f = files[i]!;
    // A rotated file's name holds its rotation time: it has no line newer than that.
    if (opts.since !== undefined && f.at < opts.since) break;
    const prevAt = i > 0 ? files[i - 1]!.at : Number.NEGATIVE_INFINITY;
    if (opts.until !== undefined && prevAt > opts.until + UNTIL_SLACK_MS) continue;
    const live = i === files.length - 1;
    let got = f.gzip
      ? await lastOfGzip(f.path, want - count, match)
      : await lastOfPlain(f.path, want - count, match, live ? opts.liveBytes : undefined);
    // Compressed since it was listed.
    if (got === null && !f.gzip && !live) got = await lastOfGzip(`${f.path}.gz`, want - count, match);
    if (!got) continue;
    parts.unshift(got);
    count += got.length;
  }
  return parts.flat().slice(-want);
}

/** A position in a stream's live file: which file (inode) and how far. */
export interface LivePosition {
  ino: number;
  offset: number;
}

/** The current end of a stream's live file (offset 0 when there is none yet). */
export async function liveFilePosition(dir: string, stream: LogStream): Promise<LivePosition> {
  const st = await stat(join(dir, liveFileName(stream))).catch(() => null);
  return st ? { ino: st.ino, offset: st.size } : { ino: -1, offset: 0 };
}

/** The error-log lines of a time window (an alert's), newest last, at most `limit` (the latest ones). */
export function errorLinesAround(opts: {
  dir: string;
  from: number;
  to: number;
  limit?: number;
}): Promise<LogLine[]> {
  return tailLogs({
    dir: opts.dir,
    stream: 'error',
    since: opts.from,
    until: opts.to,
    lines: opts.limit ?? 50,
  });
}

/**
 * Yields lines appended to a stream's live file from now on (or from `from`), polling every
 * `intervalMs` on `clock`, across rotations (the rest of the rotated file is read first), until `signal` aborts.
 */
export async function* followLogs(opts: {
  dir: string;
  stream?: LogStream;
  grep?: string;
  clock: Clock;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Start at the beginning of the live file, or at a position taken before (instead of its current end). */
  from?: 'start' | LivePosition;
}): AsyncGenerator<LogLine> {
  const path = join(opts.dir, liveFileName(opts.stream ?? 'application'));
  const match = matcher(opts);
  let fh: FileHandle | null = null;
  let ino = -1;
  let pos = 0;
  let carry: Buffer = Buffer.alloc(0);
  const reopen = async (start: 'start' | 'end' | LivePosition) => {
    await fh?.close();
    fh = null;
    try {
      fh = await open(path, 'r');
      const st = await fh.stat();
      ino = st.ino;
      if (start === 'start') pos = 0;
      else if (start === 'end') pos = st.size;
      // The same file as at the position taken: go on from there; rotated since: from its start.
      else pos = start.ino === st.ino ? Math.min(start.offset, st.size) : 0;
      carry = Buffer.alloc(0);
    } catch {
      fh = null;
    }
  };
  async function* readNew(h: FileHandle): AsyncGenerator<LogLine> {
    const buf = Buffer.alloc(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      const data = Buffer.concat([carry, buf.subarray(0, bytesRead)]);
      let start = 0;
      for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
        const line = match(data.toString('utf8', start, nl));
        start = nl + 1;
        if (line) yield line;
      }
      carry = data.subarray(start);
    }
  }
  await reopen(opts.from ?? 'end');
  try {
    while (!opts.signal?.aborted) {
      if (fh) yield* readNew(fh);
      const st = await stat(path).catch(() => null);
      if (st && st.ino !== ino) {
        // Rotated (or created): finish the old file through the handle still open, then switch.
        if (fh) yield* readNew(fh);
        await reopen('start');
        continue;
      }
      if (st && st.size < pos) {
        pos = 0;
        carry = Buffer.alloc(0);
      }
      try {
        await opts.clock.sleep(opts.intervalMs ?? 500, opts.signal);
      } catch {
        return;
      }
    }
  } finally {
    await (fh as FileHandle | null)?.close();
  }
}
