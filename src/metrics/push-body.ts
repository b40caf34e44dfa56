/**
 * The JSON body of a push, parsed in slices: `JSON.parse` of a whole push holds the event loop for as
 * long as the body is large (several pushes arriving together add up, and a pusher's batch is up to
 * 4 MB, its `MAX_BATCH_BYTES`). Here the top-level object is walked byte by byte,
 * each element of its `rows` array is cut out and parsed with `JSON.parse` on its own, and the loop
 * gets a turn between slices (see `Slicer`). The other top-level values are parsed whole (they are
 * small). Only the structure between those values is read here: every value goes through
 * `JSON.parse`, so what is accepted is exactly what `JSON.parse` accepts, except a top-level
 * `__proto__` key, refused as the default parser refuses it.
 */
import { ProdmonError } from '../core/errors.js';
import { Slicer } from '../core/slice.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function invalid(why: string, at: number): ProdmonError {
  return new ProdmonError('PRODMON_E_BAD_REQUEST', `the body is not valid JSON: ${why} at byte ${at}`);
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The index after the string that starts (with its quote) at `i`. */
function stringEnd(buf: Buffer, i: number): number {
  let at = i + 1;
  for (;;) {
    const q = buf.indexOf(QUOTE, at);
    if (q < 0) throw invalid('unterminated string', i);
    let slashes = 0;
    while (q - 1 - slashes >= at && buf[q - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q + 1;
    at = q + 1;
  }
}

/** The index after the value that starts at `i` (JSON.parse checks the value itself). */
function valueEnd(buf: Buffer, i: number): number {
  const c = buf[i];
  if (c === QUOTE) return stringEnd(buf, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    let j = i;
    while (j < buf.length) {
      const b = buf[j]!;
      if (b === QUOTE) {
        j = stringEnd(buf, j);
        continue;
      }
      if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    throw invalid('unterminated object or array', i);
  }
  let j = i;
  while (j < buf.length) {
    const b = buf[j];
    if (b === 0x2c || b === 0x7d || b === 0x5d || isSpace(b)) break;
    j++;
  }
  if (j === i) throw invalid('a value is missing', i);
  return j;
}

function parseSpan(buf: Buffer, from: number, to: number): unknown {
  try {
    return JSON.parse(buf.toString('utf8', from, to));
  } catch (err) {
    throw invalid((err as Error).message, from);
  }
}

/**
 * Parses a push body (a JSON object) in slices: its `rows` array an element at a time. Throws
 * PRODMON_E_BAD_REQUEST when it is not valid JSON. Anything but an object is parsed whole.
 */
export async function parsePushBody(buf: Buffer, slicer = new Slicer()): Promise<unknown> {
  // Into the queue of sliced jobs first: bodies that arrive together take turns from the start.
  if (buf.length > 64 * 1024) await slicer.yield();
  let i = 0;
  const skip = () => {
    while (isSpace(buf[i])) i++;
  };
  skip();
  if (buf[i] !== 0x7b) return parseSpan(buf, 0, buf.length);
  i++;
  const out: Record<string, unknown> = {};
  skip();
  if (buf[i] === 0x7d) i++;
  else {
    for (;;) {
      skip();
      if (buf[i] !== QUOTE) throw invalid('expected a key', i);
      const keyEnd = stringEnd(buf, i);
      const key = parseSpan(buf, i, keyEnd) as string;
      if (key === '__proto__') throw invalid('"__proto__" is not allowed as a key', i);
      i = keyEnd;
      skip();
      if (buf[i] !== 0x3a) throw invalid('expected ":"', i);
      i++;
      skip();
      let value: unknown;
      if (key === 'rows' && buf[i] === 0x5b) {
        const rows: unknown[] = [];
        i++;
        skip();
        if (buf[i] === 0x5d) i++;
        else {
          for (;;) {
            skip();
            const end = valueEnd(buf, i);
            rows.push(parseSpan(buf, i, end));
            i = end;
            skip();
            if (buf[i] === 0x5d) {
              i++;
              break;
            }
            if (buf[i] !== 0x2c) throw invalid('expected "," or "]"', i);
            i++;
            if (rows.length % 16 === 0) await slicer.pause();
          }
        }
        value = rows;
      } else {
        const end = valueEnd(buf, i);
        value = parseSpan(buf, i, end);
        i = end;
      }
      out[key] = value;
      skip();
      if (buf[i] === 0x7d) {
        i++;
        break;
      }
      if (buf[i] !== 0x2c) throw invalid('expected "," or "}"', i);
      i++;
    }
  }
  skip();
  if (i < buf.length) throw invalid('unexpected data after the object', i);
  return out;
}

/** The errors Fastify answers for a body over the limit (413) or not of its declared length (400). */
export interface BodyErrors {
  tooLarge: () => Error;
  wrongLength: () => Error;
}

/**
 * Push bodies read into buffers kept for the next pushes (at most `maxKept` of them, each up to
 * `keepUpTo` bytes): a hub takes in a push of hundreds of KB every few dozen milliseconds, and a
 * buffer of that size allocated for each (as a body parser that concatenates the chunks does) cost
 * more than copying into one already there. The parsed body holds no reference to these bytes
 * (`parsePushBody` copies out what it keeps), so the buffer goes back once it is parsed.
 */
export class BodyBuffers {
  readonly #free: Buffer[] = [];

  constructor(
    readonly errors: BodyErrors,
    readonly maxKept = 4,
    readonly keepUpTo = 4 * 1024 * 1024,
  ) {}

  /**
   * Reads a request body of at most `limit` bytes (of exactly `declared` when that is a number: its
   * Content-Length) and resolves with what `use` makes of the bytes.
   */
  read<T>(
    stream: NodeJS.ReadableStream,
    declared: number,
    limit: number,
    use: (body: Buffer) => Promise<T>,
  ): Promise<T> {
    if (declared > limit) return Promise.reject(this.errors.tooLarge());
    let buf = this.#take(Number.isFinite(declared) ? declared : 64 * 1024);
    let n = 0;
    return new Promise<Buffer>((resolve, reject) => {
      const stop = () => {
        stream.removeListener('data', onData);
        stream.removeListener('end', onEnd);
        stream.removeListener('error', onError);
      };
      const onData = (chunk: Buffer | string) => {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (n + bytes.length > limit) {
          stop();
          reject(this.errors.tooLarge());
          return;
        }
        if (n + bytes.length > buf.length) {
          const bigger = Buffer.allocUnsafe(Math.min(limit, Math.max(n + bytes.length, 2 * buf.length)));
          buf.copy(bigger, 0, 0, n);
          this.#give(buf);
          buf = bigger;
        }
        bytes.copy(buf, n);
        n += bytes.length;
      };
      const onEnd = () => {
        stop();
        if (Number.isFinite(declared) && n !== declared) reject(this.errors.wrongLength());
        else resolve(buf.subarray(0, n));
      };
      const onError = (err: Error & { statusCode?: number }) => {
        stop();
        if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
        reject(err);
      };
      stream.on('data', onData);
      stream.on('end', onEnd);
      stream.on('error', onError);
      stream.resume();
    })
      .then(use)
      .finally(() => this.#give(buf));
  }

  #take(size: number): Buffer {
    for (let i = 0; i < this.#free.length; i++) {
      if (this.#free[i]!.length >= size) return this.#free.splice(i, 1)[0]!;
    }
    // With room to spare: a pusher's bodies grow as its minutes fill (their sketches grow).
    return Buffer.allocUnsafeSlow(Math.max(64 * 1024, Math.ceil((size * 1.25) / 65536) * 65536));
  }

  /** Keeps a buffer for the next body, in place of a smaller one when all places are taken. */
  #give(buf: Buffer): void {
    if (buf.length > this.keepUpTo || this.#free.includes(buf)) return;
    if (this.#free.length < this.maxKept) {
      this.#free.push(buf);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < this.#free.length; i++) {
      if (this.#free[i]!.length < this.#free[smallest]!.length) smallest = i;
    }
    if (this.#free[smallest]!.length < buf.length) this.#free[smallest] = buf;
  }
}
