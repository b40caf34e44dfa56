/** The demo's command line: `npm run demo -- --duration 5m --fault errors --fault-for 45s`. */
import { parseArgs } from 'node:util';
import { type FaultName, isFaultName } from '../faults.js';

/** What the demo was asked to do. */
export interface DemoArgs {
  durationMs: number;
  faults: FaultName[];
  /** When the `--fault`s switch on, after the start. */
  faultAfterMs: number;
  /** How long they stay on (0: until the end). */
  faultForMs: number;
  port: number;
  /** Virtual customers. */
  customers: number;
  /** Data directory (default: a fresh temporary one, removed at the end). */
  dataDir: string | null;
  /** SHOP_DATABASE_URL: PostgreSQL instead of SQLite. */
  databaseUrl: string | null;
  /** SHOP_REDIS_URL, default redis://127.0.0.1:6379 ("none": no cache). */
  redisUrl: string | null;
  /** Print the status line every this often (0: never). */
  statusEveryMs: number;
  help: boolean;
}

/** `90s`, `10m`, `1h`, `500ms` or a number of seconds, to ms; null if unreadable. */
export function parseDemoDuration(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h']);
}

export const USAGE = `Usage: npm run demo -- [options]

Starts the example shop with prodmon embedded, a traffic generator and a local webhook receiver.

Options:
  --duration D      how long to run (default 10m; at most 2h)
  --fault NAME      switch a fault on: slow-db, errors, redis-down (repeatable)
  --fault-after D   when the faults switch on (default 0s)
  --fault-for D     how long they stay on (default 45s; 0 = until the end)
  --customers N     virtual customers in parallel (default 4)
  --port N          the shop's port on 127.0.0.1 (default: a free one)
  --data-dir DIR    keep the shop's and prodmon's data here (default: a temporary directory)
  --status-every D  print a status line this often (default 10s; 0 = never)
  -h, --help        this text

Environment: SHOP_DATABASE_URL (PostgreSQL instead of SQLite), SHOP_REDIS_URL (default
redis://127.0.0.1:6379; "none" runs without a cache).
While it runs: POST /_demo/fault {"fault":"errors","on":true} with the printed token, or press
e / s / r to toggle errors / slow-db / redis-down, q or Ctrl-C to stop.`;

/** Parses argv; throws an Error with a readable message on bad input. */
export function parseDemoArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DemoArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10m' },
      fault: { type: 'string', multiple: true, default: [] },
      'fault-after': { type: 'string', default: '0s' },
      'fault-for': { type: 'string', default: '45s' },
      customers: { type: 'string', default: '4' },
      port: { type: 'string', default: '0' },
      'data-dir': { type: 'string' },
      'status-every': { type: 'string', default: '10s' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const dur = (name: string, v: string, max = 2 * 3_600_000) => {
    const ms = parseDemoDuration(v);
    if (ms === null || ms > max)
      throw new Error(`--${name}: expected a duration such as 90s or 5m (at most 2h), got "${v}"`);
    return ms;
  };
  const int = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${name}: expected a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  };
  const faults = values.fault.map((f) => {
    if (!isFaultName(f))
      throw new Error(`--fault: unknown fault "${f}" (known: slow-db, errors, redis-down)`);
    return f;
  });
  const durationMs = dur('duration', values.duration);
  if (durationMs < 1000) throw new Error('--duration: at least 1s');
  const redis = env.SHOP_REDIS_URL ?? 'redis://127.0.0.1:6379';
  return {
    durationMs,
    faults: [...new Set(faults)],
    faultAfterMs: dur('fault-after', values['fault-after']),
    faultForMs: dur('fault-for', values['fault-for']),
    customers: int('customers', values.customers, 1, 64),
    port: int('port', values.port, 0, 65535),
    dataDir: values['data-dir'] ?? null,
    databaseUrl: env.SHOP_DATABASE_URL || null,
    redisUrl: redis === 'none' ? null : redis,
    statusEveryMs: dur('status-every', values['status-every']),
    help: values.help,
  };
}
