/**
 * Logging from worker threads (or any thread with a message port) through the one logger that owns the files:
 * the worker formats and redacts its lines with the same pino setup, and posts them in batches; the owner
 * writes them like its own. Only one writer ever touches a file, so rotation stays whole-line and ordered.
 */
import type { Clock } from '../core/clock.js';
import { LOG_STREAMS, type LogStream } from './files.js';
import { assemble, buildLoggers, type LoggerConfig, type ProductionLogger, routeOf } from './logger.js';

const TYPE = 'prodmon.logs';

interface LogBatch {
  type: typeof TYPE;
  /** Per line: index into LOG_STREAMS, then the level. */
  meta: number[];
  lines: string[];
}

/** Where a worker posts (its `parentPort`, a MessagePort). */
export interface LogPortTarget {
  postMessage(value: unknown): void;
}

/** Where the owner listens (a Worker, a MessagePort). */
export interface LogPortSource {
  on(event: 'message', fn: (m: unknown) => void): unknown;
  off(event: 'message', fn: (m: unknown) => void): unknown;
}

function isBatch(m: unknown): m is LogBatch {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === TYPE;
}

/**
 * Writes the lines a worker's {@link createPortLogger} posts on `source` through `logger` (one made by
 * `createProductionLogger`); other messages are left alone. Returns the function that detaches it.
 */
export function attachLogPort(logger: ProductionLogger, source: LogPortSource): () => void {
  const route = routeOf(logger);
  if (!route) return () => {};
  const onMessage = (m: unknown) => {
    if (!isBatch(m)) return;
    for (let i = 0; i < m.lines.length; i++) {
      const stream = LOG_STREAMS[m.meta[2 * i]!];
      if (stream) route(stream, m.meta[2 * i + 1]!, m.lines[i]!);
    }
  };
  source.on('message', onMessage);
  return () => {
    source.off('message', onMessage);
  };
}

/**
 * A ProductionLogger for a worker thread: lines are formatted and redacted here and posted to `port` in
 * batches (once per turn of the event loop, or on `flush()`); the owner attaches with {@link attachLogPort}.
 * Its `status()` is the worker's side only (lines it could not post); the files' health is the owner's.
 */
export function createPortLogger(opts: {
  port: LogPortTarget;
  config: LoggerConfig;
  clock: Clock;
  secrets?: readonly string[];
}): ProductionLogger {
  let meta: number[] = [];
  let lines: string[] = [];
  let scheduled = false;
  let closed = false;
  let dropped = 0;
  const post = () => {
    scheduled = false;
    if (lines.length === 0) return;
    const batch: LogBatch = { type: TYPE, meta, lines };
    meta = [];
    lines = [];
    try {
      opts.port.postMessage(batch);
    } catch {
      dropped += batch.lines.length;
    }
  };
  const route = (stream: LogStream, level: number, line: string) => {
    if (closed) {
      dropped++;
      return;
    }
    meta.push(LOG_STREAMS.indexOf(stream), level);
    lines.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(post);
    }
  };
  return assemble(buildLoggers(opts.config, opts.clock, opts.secrets ?? [], route), {
    status: () =>
      dropped > 0
        ? { status: 'degraded', error: 'lines could not be posted to the log owner', since: null, dropped }
        : { status: 'healthy', error: null, since: null, dropped },
    onStatusChange: () => () => {},
    flush: async () => post(),
    close: async () => {
      post();
      closed = true;
    },
  });
}
