/** File-descriptor level helpers of the sink: promise wrappers, and opening a live file safely. */
import * as fs from 'node:fs';
import { mkdir, open as openFile } from 'node:fs/promises';

const TAIL_BYTES = 64 * 1024;

/** `fs.write` of `buf[off, off+len)` at the end (O_APPEND); resolves with the bytes written (may be fewer). */
export const writeFd = (fd: number, buf: Buffer, off: number, len: number): Promise<number> =>
  new Promise((res, rej) => fs.write(fd, buf, off, len, null, (e, n) => (e ? rej(e) : res(n))));

/** Promise form of a callback-style fs call without result. */
export const fsCall = (fn: (cb: (e: NodeJS.ErrnoException | null) => void) => void): Promise<void> =>
  new Promise((res, rej) => fn((e) => (e ? rej(e) : res())));

/** An open live file: its descriptor, its size, and the time of its last line (or of opening). */
export interface LiveFile {
  fd: number;
  size: number;
  lastTime: number;
}

/**
 * Opens `file` for appending (creating `dir` when missing). A last line left without its newline (a crash
 * mid-write, or a failed repair of a partial write) is ended first, so the next line stands alone. The time
 * of the last whole line (else the mtime, else `now`) tells daily rotation which day the file belongs to.
 */
export async function openLiveFile(file: string, dir: string, now: number): Promise<LiveFile> {
  const open = () =>
    new Promise<number>((res, rej) => fs.open(file, 'a', 0o640, (e, f) => (e ? rej(e) : res(f))));
  let fd: number;
  try {
    fd = await open();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    fd = await open();
  }
  try {
    const st = await new Promise<fs.Stats>((res, rej) => fs.fstat(fd, (e, s) => (e ? rej(e) : res(s))));
    let size = st.size;
    let lastTime = now;
    if (st.isFile() && size > 0) {
      const tail = await readTail(file, size);
      if (tail.length > 0 && tail[tail.length - 1] !== 0x0a)
        size += await writeFd(fd, Buffer.from('\n'), 0, 1);
      lastTime = lastLineTime(tail) ?? st.mtimeMs;
    }
    return { fd, size, lastTime };
  } catch (err) {
    fs.close(fd, () => {});
    throw err;
  }
}

async function readTail(path: string, size: number): Promise<Buffer> {
  const fh = await openFile(path, 'r');
  try {
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, size - len);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The `time` of the last complete JSON line in `tail`, or null. */
function lastLineTime(tail: Buffer): number | null {
  const lines = tail.toString('utf8').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith('{')) continue;
    try {
      const t = (JSON.parse(line) as { time?: unknown }).time;
      if (typeof t === 'number') return t;
    } catch {
      // Not a whole line: look further back.
    }
  }
  return null;
}
