/**
 * Archive files: gzip-compressed NDJSON, one record per line. A file is written under a `.partial` name,
 * flushed to disk, then renamed, so a crash never leaves a half file that looks complete; records are
 * deleted from the store only after their file is complete.
 */
import { once } from 'node:events';
import {
  closeSync,
  createWriteStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';

/** A finished archive file. */
export interface ArchiveFile {
  path: string;
  dataset: string;
  records: number;
  bytes: number;
}

/** `20260329T010000Z` for a time in ms. */
export function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every file system lets a directory be synced; the rename itself is atomic.
  }
}

/** Writes one archive file. */
export class ArchiveWriter {
  readonly path: string;
  readonly dataset: string;
  readonly #partial: string;
  readonly #gzip: Gzip;
  readonly #out: ReturnType<typeof createWriteStream>;
  #records = 0;

  private constructor(path: string, dataset: string) {
    this.path = path;
    this.dataset = dataset;
    this.#partial = `${path}.partial`;
    this.#gzip = createGzip({ level: 6 });
    this.#out = createWriteStream(this.#partial, { flags: 'wx' });
    this.#gzip.pipe(this.#out);
  }

  /** Opens `<dir>/<dataset>-<stamp>[-n].ndjson.gz` (a name not taken yet). */
  static open(dir: string, dataset: string, now: number): ArchiveWriter {
    mkdirSync(dir, { recursive: true });
    const base = `${dataset}-${stamp(now)}`;
    let path = join(dir, `${base}.ndjson.gz`);
    for (let n = 2; existsSync(path) || existsSync(`${path}.partial`); n++)
      path = join(dir, `${base}-${n}.ndjson.gz`);
    return new ArchiveWriter(path, dataset);
  }

  /** Number of records written so far. */
  get records(): number {
    return this.#records;
  }

  /** Appends records (waits when the stream is full). */
  async write(records: readonly unknown[]): Promise<void> {
    for (const r of records) {
      this.#records++;
      if (!this.#gzip.write(`${JSON.stringify(r)}\n`)) await once(this.#gzip, 'drain');
    }
  }

  /** Finishes the file: flushed, synced to disk and renamed to its final name. */
  async close(): Promise<ArchiveFile> {
    const finished = once(this.#out, 'close');
    this.#gzip.end();
    await finished;
    const fd = openSync(this.#partial, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(this.#partial, this.path);
    syncDir(dirname(this.path));
    return { path: this.path, dataset: this.dataset, records: this.#records, bytes: this.#out.bytesWritten };
  }

  /** Gives up: the partial file is removed (its records are still in the store). */
  async abort(): Promise<void> {
    const closed = once(this.#out, 'close').catch(() => {});
    this.#gzip.destroy();
    this.#out.destroy();
    await closed;
    rmSync(this.#partial, { force: true });
  }
}
