/** The production logger: four pino loggers (application, error, performance, security), each to its own file. */
import { hostname } from 'node:os';
import { ecsFormat } from '@elastic/ecs-pino-format';
import pino from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import { finishCompression, gzipFile, type LogStream } from './files.js';
import { LogHealth, type LogStatus } from './health.js';
import { createRedactor } from './redact.js';
import { applyLogRetention } from './retention.js';
import { RotatingFileSink } from './sink.js';

/** The `logs` section of the config (sizes in bytes, durations in ms). */
export type LogsConfig = ResolvedConfig['logs'];

/** Four loggers, one per file, sharing health, flush and close. */
export interface ProductionLogger {
  /** `application.log`: what prodmon does. */
  app: pino.Logger;
  /** `error.log` (which also gets every error-level line of the other three). */
  error: pino.Logger;
  /** `performance.log`: request timing lines (see `logRequestTiming`). */
  performance: pino.Logger;
  /** `security.log`: auth failures, token use, alert resolutions, config changes. */
  security: pino.Logger;
  /** Child loggers on all four carrying `bindings` (e.g. `{ reqId }`); they share the parent's files. */
  child(bindings: Record<string, unknown>): ProductionLogger;
  /** `healthy`, or `degraded` with the reason (disk full, unwritable dir), since when, and lines dropped. */
  status(): LogStatus;
  /** Subscribes to status changes (healthy <-> degraded); returns the unsubscribe function. */
  onStatusChange(fn: (s: LogStatus) => void): () => void;
  /** Resolves when every line logged so far is handed to the OS (or writing failed: see `status()`). */
  flush(): Promise<void>;
  /** Flushes, then closes the files and waits for compression and retention work; never rejects. */
  close(): Promise<void>;
}

/** Options of {@link createProductionLogger}. */
export interface ProductionLoggerOptions {
  /** The logs directory (`config.paths.logs`); created when missing. */
  dir: string;
  config: LogsConfig;
  clock: Clock;
  /** Secret values of the config, masked wherever they appear. */
  secrets?: readonly string[];
  /** Also print application and error lines (JSON) to stdout. */
  stdout?: boolean;
  /** Per file: lines queued beyond this many bytes are dropped and counted (default 16 MiB). */
  maxBufferBytes?: number;
  /** While degraded, retry at most this often, on the next line or flush (default 1 s). */
  retryIntervalMs?: number;
  /** fdatasync at most this often while writing (default 1 s). */
  fsyncIntervalMs?: number;
}

/** Where a formatted line goes: to the stream's file, and at error level also to error.log. */
export type LineRoute = (stream: LogStream, level: number, line: string) => void;

const ERROR_LEVEL = 50;
const LEVELS = pino.levels.values;
const UNSAFE = /[\u007f-\u009f\u2028\u2029]/;
const UNSAFE_ALL = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * `line` with DEL, C1 controls and the Unicode line/paragraph separators written as `\uXXXX` escapes (JSON
 * already escapes the C0 controls, newlines included), so no reader splitting on any line break can be fooled.
 * Lossless: these characters only occur inside JSON strings, where the escape means the same character.
 */
export function escapeUnsafe(line: string): string {
  if (!UNSAFE.test(line)) return line;
  return line.replace(UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What {@link buildLoggers} needs of the `logs` config (`format` defaults to pino's JSON). */
export type LoggerConfig = Pick<LogsConfig, 'level' | 'redact'> &
  Partial<Pick<LogsConfig, 'format' | 'service_name'>>;

type Redactor = ReturnType<typeof createRedactor>;

/** pino's own JSON lines: `level` (number), `time` (ms), `pid`, `hostname`, `stream`, fields, `msg`. */
function jsonOptions(stream: LogStream, host: string, clock: Clock, redactor: Redactor): pino.LoggerOptions {
  return {
    base: { pid: process.pid, hostname: host, stream },
    timestamp: () => `,"time":${clock.now()}`,
    formatters: {
      log: (obj) => redactor.value(obj) as Record<string, unknown>,
      bindings: (b) => redactor.value(b) as pino.Bindings,
    },
    // Errors are already serialized (and redacted) by the log formatter.
    serializers: {
      msg: (m: unknown) => (typeof m === 'string' ? redactor.text(m) : m),
      err: (e: unknown) => e,
    },
  };
}

/**
 * Elastic Common Schema lines, as `@elastic/ecs-pino-format` makes them (`@timestamp`, `log.level`,
 * `message`, `ecs.version`, `service.name`, `event.dataset`, `process.pid`, `host.hostname`, `log.logger`
 * = the file's stream, `error.*` from `err`, `http.*`/`url.*`/`client.*`/`user_agent.*` from `req` and
 * `res`), with the clock's time, and redacted after the conversion, so the ECS fields are redacted too.
 */
function ecsOptions(
  stream: LogStream,
  host: string,
  clock: Clock,
  redactor: Redactor,
  serviceName: string,
): pino.LoggerOptions {
  const ecs = ecsFormat({
    serviceName,
    eventDataset: `${serviceName}.${stream}`,
    convertErr: true,
    convertReqRes: true,
  });
  const f = ecs.formatters!;
  return {
    ...ecs,
    base: { pid: process.pid, hostname: host, name: stream },
    timestamp: () => `,"@timestamp":"${new Date(clock.now()).toISOString()}"`,
    formatters: {
      level: f.level!,
      log: (obj) => redactor.value(f.log!(obj)) as Record<string, unknown>,
      bindings: (b) => f.bindings!(redactor.value(b) as pino.Bindings),
    },
    serializers: {
      message: (m: unknown) => (typeof m === 'string' ? redactor.text(m) : m),
      err: (e: unknown) => e,
    },
  };
}

/** Builds the four pino loggers over `route`, with redaction, the clock's time and the configured format. */
export function buildLoggers(
  config: LoggerConfig,
  clock: Clock,
  secrets: readonly string[],
  route: LineRoute,
): Pick<ProductionLogger, 'app' | 'error' | 'performance' | 'security'> {
  const redactor = createRedactor({ keys: config.redact, secrets });
  const host = hostname();
  // Security and performance lines are records, not chatter: kept unless the level is above info.
  const atLeastInfo = LEVELS[config.level]! <= LEVELS.info! ? config.level : 'info';
  const make = (stream: LogStream, level: string): pino.Logger => {
    const dest = {
      [Symbol.for('pino.metadata')]: true,
      lastLevel: 0,
      write(line: string) {
        route(stream, dest.lastLevel, line);
      },
    };
    const options =
      config.format === 'ecs'
        ? ecsOptions(stream, host, clock, redactor, config.service_name ?? 'prodmon')
        : jsonOptions(stream, host, clock, redactor);
    const logger = pino({ ...options, level }, dest);
    // pino applies `formatters.bindings` to `base` only: children's bindings are redacted here, for children
    // made by anyone, at any depth (they inherit this property).
    const protoChild = Object.getPrototypeOf(logger).child as pino.Logger['child'];
    logger.child = function (this: pino.Logger, bindings, options) {
      return protoChild.call(this, redactor.value(bindings) as pino.Bindings, options);
    } as pino.Logger['child'];
    return logger;
  };
  return {
    app: make('application', config.level),
    error: make('error', config.level),
    performance: make('performance', atLeastInfo),
    security: make('security', atLeastInfo),
  };
}

const routes = new WeakMap<ProductionLogger, LineRoute>();

/** The route of a logger made here (for forwarding lines from worker threads), or undefined. */
export function routeOf(logger: ProductionLogger): LineRoute | undefined {
  return routes.get(logger);
}

/** Assembles a ProductionLogger (and its children) around four pino loggers and shared parts. */
export function assemble(
  loggers: Pick<ProductionLogger, 'app' | 'error' | 'performance' | 'security'>,
  shared: Pick<ProductionLogger, 'status' | 'onStatusChange' | 'flush' | 'close'>,
  route?: LineRoute,
): ProductionLogger {
  const logger: ProductionLogger = {
    ...loggers,
    child: (bindings) =>
      assemble(
        {
          app: loggers.app.child(bindings),
          error: loggers.error.child(bindings),
          performance: loggers.performance.child(bindings),
          security: loggers.security.child(bindings),
        },
        shared,
        route,
      ),
    ...shared,
  };
  if (route) routes.set(logger, route);
  return logger;
}

/**
 * The production logger over `opts.dir`: `application.log`, `error.log`, `performance.log`, `security.log`,
 * rotated by size and daily, gzipped, with retention applied at start and after each rotation. Never throws:
 * problems show in `status()`.
 */
export function createProductionLogger(opts: ProductionLoggerOptions): ProductionLogger {
  const { config, clock, dir } = opts;
  const health = new LogHealth();
  let chain: Promise<unknown> = Promise.resolve();
  const background = (task: () => Promise<unknown>) => {
    chain = chain.then(task).catch(() => {});
  };
  const retain = () => applyLogRetention({ dir, retentionMs: config.retention, now: clock.now() });
  const sink = (stream: LogStream) => {
    const s = new RotatingFileSink({
      dir,
      stream,
      maxSize: stream === 'performance' ? config.performance_max_size : config.max_size,
      daily: config.daily,
      clock,
      maxBufferBytes: opts.maxBufferBytes ?? 16 * 1024 * 1024,
      retryIntervalMs: opts.retryIntervalMs ?? 1000,
      fsyncIntervalMs: opts.fsyncIntervalMs ?? 1000,
      health,
      onRotated: (path, retired) =>
        background(async () => {
          await retired;
          if (config.gzip) await gzipFile(path).catch(() => {});
          await retain();
        }),
    });
    health.add(s);
    return s;
  };
  const sinks = {
    application: sink('application'),
    error: sink('error'),
    performance: sink('performance'),
    security: sink('security'),
  } satisfies Record<LogStream, RotatingFileSink>;
  background(() => finishCompression(dir, config.gzip));
  background(retain);

  const out = opts.stdout ? pino.destination({ dest: 1, sync: false }) : null;
  out?.on('error', () => {});
  let closed: Promise<void> | null = null;
  const route: LineRoute = (stream, level, line) => {
    try {
      if (closed) {
        health.extraDropped++;
        return;
      }
      health.poke();
      const safe = escapeUnsafe(line);
      sinks[stream].write(safe);
      if (level >= ERROR_LEVEL && stream !== 'error') sinks.error.write(safe);
      if (out && (stream === 'application' || stream === 'error' || level >= ERROR_LEVEL)) out.write(safe);
    } catch {
      health.extraDropped++;
    }
  };
  const all = Object.values(sinks);
  const flush = async () => {
    await Promise.all(all.map((s) => s.flush()));
  };
  const close = () => {
    closed ??= (async () => {
      await Promise.all(all.map((s) => s.close()));
      await chain;
      if (out) await new Promise<void>((r) => out.flush(() => r()));
    })().catch(() => {});
    return closed;
  };
  return assemble(
    buildLoggers(config, clock, opts.secrets ?? [], route),
    {
      status: () => health.status(),
      onStatusChange: (fn) => health.subscribe(fn),
      flush: () => flush().catch(() => {}),
      close,
    },
    route,
  );
}

/** A logger that writes nothing and is always healthy (tests, `--json` CLI commands). */
export function createSilentLogger(): ProductionLogger {
  const silent = () => pino({ level: 'silent' });
  return assemble(
    { app: silent(), error: silent(), performance: silent(), security: silent() },
    {
      status: () => ({ status: 'healthy', error: null, since: null, dropped: 0 }),
      onStatusChange: () => () => {},
      flush: async () => {},
      close: async () => {},
    },
  );
}
