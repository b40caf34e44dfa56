/** The log files on disk: the four streams, rotated file names (sortable by time), listing and gzip. */
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** The four production log streams, one file each. */
export const LOG_STREAMS = ['application', 'error', 'performance', 'security'] as const;
/** One of {@link LOG_STREAMS}. */
export type LogStream = (typeof LOG_STREAMS)[number];

/** Whether `name` is one of the four streams. */
export function isLogStream(name: string): name is LogStream {
  return (LOG_STREAMS as readonly string[]).includes(name);
}

/** File name of a stream's live file: `application.log`. */
export function liveFileName(stream: LogStream): string {
  return `${stream}.log`;
}

/** `2026-11-26T10:00:00.000Z` as `2026-11-26T10-00-00-000Z` (safe in file names, sorts by time). */
export function fileStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

const STAMP = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/;

/** Inverse of {@link fileStamp}; null when it is not one. */
export function parseFileStamp(stamp: string): number | null {
  const m = STAMP.exec(stamp);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isNaN(ms) ? null : ms;
}

/** Name of a rotated file before compression: `application.2026-11-26T10-00-00-000Z.1.log`. */
export function rotatedFileName(stream: LogStream, at: number, seq: number): string {
  return `${stream}.${fileStamp(at)}.${seq}.log`;
}

/** A rotated (or otherwise retired) file of one of the streams. */
export interface RotatedFile {
  name: string;
  path: string;
  stream: LogStream;
  /** When it was rotated (from its name), or its mtime for files named some other way. */
  at: number;
  seq: number;
  gzip: boolean;
  /** Named by this module (`<stream>.<stamp>.<seq>.log[.gz]`), not found by the looser pattern. */
  ours: boolean;
}

const OURS =
  /^(application|error|performance|security)\.(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)\.(\d+)\.log(\.gz)?$/;
// Rotated files named some other way by earlier versions or tools (logrotate's `application.log.1.gz`,
// `application.1.log`...): aged by mtime. The live files themselves never match.
const OTHERS = /^(application|error|performance|security)\.(?:.+\.log|log\..+)(\.gz)?$/;

/** Parses a rotated file name; null for live files, temporary files and anything else. */
export function parseRotatedName(name: string): Omit<RotatedFile, 'path'> | null {
  const m = OURS.exec(name);
  if (m) {
    const at = parseFileStamp(m[2]!);
    if (at === null) return null;
    return { name, stream: m[1] as LogStream, at, seq: Number(m[3]), gzip: Boolean(m[4]), ours: true };
  }
  if (name.endsWith('.tmp')) return null;
  const o = OTHERS.exec(name);
  if (!o) return null;
  return { name, stream: o[1] as LogStream, at: Number.NaN, seq: 0, gzip: name.endsWith('.gz'), ours: false };
}

/** Oldest first: by rotation time, then sequence. */
export function compareRotated(a: RotatedFile, b: RotatedFile): number {
  return a.at - b.at || a.seq - b.seq || a.name.localeCompare(b.name);
}

/** Every rotated file in `dir` (optionally of one stream), oldest first; [] when `dir` does not exist. */
export async function listRotated(dir: string, stream?: LogStream): Promise<RotatedFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: RotatedFile[] = [];
  for (const name of names) {
    const parsed = parseRotatedName(name);
    if (!parsed || (stream && parsed.stream !== stream)) continue;
    const file: RotatedFile = { ...parsed, path: join(dir, name) };
    if (!file.ours) {
      try {
        const s = await stat(file.path);
        if (!s.isFile()) continue;
        file.at = s.mtimeMs;
      } catch {
        continue;
      }
    }
    out.push(file);
  }
  return out.sort(compareRotated);
}

/**
 * Compresses `src` to `src.gz` and removes `src`. Writes to a `.tmp` file first and renames it, so a
 * `.gz` file is always complete; on failure (disk full...) `src` is kept as it was and the error thrown.
 */
export async function gzipFile(src: string): Promise<string> {
  const dest = `${src}.gz`;
  const tmp = `${dest}.tmp`;
  try {
    await pipeline(createReadStream(src), createGzip(), createWriteStream(tmp, { flush: true }));
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await unlink(src).catch(() => {});
  return dest;
}

/**
 * Finishes what an earlier run left half done: removes partial `.gz.tmp` files, removes a rotated file whose
 * `.gz` exists (the crash came between rename and unlink), and compresses rotated files left uncompressed.
 */
export async function finishCompression(dir: string, gzip: boolean): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const present = new Set(names);
  for (const name of names) {
    if (name.endsWith('.log.gz.tmp') && OURS.test(name.slice(0, -4))) {
      await rm(join(dir, name), { force: true }).catch(() => {});
      continue;
    }
    const parsed = parseRotatedName(name);
    if (!parsed?.ours || parsed.gzip) continue;
    if (present.has(`${name}.gz`)) await unlink(join(dir, name)).catch(() => {});
    else if (gzip) await gzipFile(join(dir, name)).catch(() => {});
  }
}
