/**
 * `prodmon verify`: the deployment gate of a CI/CD pipeline, run right after a deploy against the
 * running prodmon (the service's embedded monitor, or a standalone one watching it), over its read API.
 *
 * 1. **Wait for healthy**, up to `--timeout` (default 5m): poll `GET /production/health/detailed/`
 *    every `--interval` (default 2s) until the overall status is `healthy` (`--fail-on unhealthy`:
 *    until it is not `unhealthy`).
 * 2. **Watch a window** of `--for` (default 2m) from that first healthy answer, polling the detailed
 *    health and `GET /production/alerts/?severity=critical` at the same interval. The gate fails at
 *    once when the health falls back (naming each check that is not healthy and its error) or when a
 *    critical alert fires. A critical alert counts when it fires during the window **or was already
 *    firing when the window started** (a deploy is never declared good while something is critical,
 *    whoever caused it), and also when it fired and resolved between two polls (the alert history is
 *    read, not only the active list). Critical alerts that fired and resolved before the window are not
 *    counted; a pending one (not firing yet) is not counted. Silenced critical alerts count too (the
 *    gate is about the service, not about who gets paged); the reason says what silences them.
 * 3. **Verdict**: exit 0 when the window ends healthy with no critical alert, 1 otherwise with the
 *    reason (what, which check or alert, when, in prodmon's clock), 2 for a usage or config error
 *    naming the option, and 2 when prodmon refuses the token (401/403: the pipeline's configuration is
 *    wrong, retrying cannot help, and it says nothing about the deploy).
 *
 * **Unreachable prodmon**: connection errors, timeouts (10 s per request), 5xx and answers that are not
 * prodmon's API are retried every interval. While waiting for healthy they count against `--timeout`;
 * in the window a prodmon that stops answering gets `--timeout` from its first failed poll to come back
 * (alerts that fired meanwhile are still found in the history once it answers, and the window's end waits
 * for an answer). One that does not come back is a failure (exit 1) with its own message: the
 * deployment could not be verified.
 *
 * Without `--url` (or `PRODMON_URL`) it finds the local prodmon as `prodmon status` does: the URL the
 * running `prodmon start` of the config's data directory wrote to its state file, else the config's
 * `server.host`/`server.port`; with the config's prefix. The token comes from `--token`, else
 * `PRODMON_TOKEN`, else (local only) the config's first `auth.tokens` entry with the `read` role (else
 * `admin`), else the data directory's first-run token.
 *
 * Time is the injected {@link Clock} (the CLI's is the system clock), so a test can drive the loop.
 * Progress lines go to stderr, the verdict to stdout (`--json`: a JSON object).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import type { ResolvedConfig } from '../config/load.js';
import { type Clock, systemClock } from '../core/clock.js';
import { type Bounds, configDuration, formatDuration } from '../core/duration.js';
import { errorMessage, ProdmonError } from '../core/errors.js';
import { HEALTH_STATUSES, type HealthStatus } from '../domain/health.js';
import { configFrom, EXIT, type GlobalOptions, globalOptions, printJson, runCommand } from './common.js';
import { probeDaemon } from './daemon.js';
import { FIRST_RUN_FILE } from './first-run.js';

/** Defaults and bounds of the duration options (documented in docs/cli.md). */
export const VERIFY_DURATIONS = {
  for: { default: '2m', bounds: { min: '0s', max: '24h' } },
  timeout: { default: '5m', bounds: { min: '0s', max: '24h' } },
  interval: { default: '2s', bounds: { min: '100ms', max: '1m' } },
} as const satisfies Record<string, { default: string; bounds: Bounds }>;

/** The longest one request to prodmon may take (connect, answer, body) before it counts as unreachable. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** How often the window prints that all is still well. */
export const HEARTBEAT_MS = 30_000;
/** How far back the alert history is read (an alert pending that long before the window is not seen). */
export const HISTORY_LOOKBACK_MS = 24 * 3_600_000;

/** Which status fails the gate: `degraded` (anything but healthy) or only `unhealthy`. */
export type FailOn = 'degraded' | 'unhealthy';

/** Where prodmon is and how to authenticate to it. */
export interface VerifyTarget {
  /** prodmon's base URL, its prefix included, without a trailing slash. */
  url: string;
  /** Where the URL came from, for messages. */
  urlFrom: string;
  token: string | null;
  /** Where the token came from (null: none was found). */
  tokenFrom: string | null;
  /** Said when prodmon cannot be reached (how to point verify elsewhere). */
  hint?: string;
}

/** How long and how strictly to verify. */
export interface VerifySettings {
  forMs: number;
  timeoutMs: number;
  intervalMs: number;
  failOn: FailOn;
}

/** What the loop uses from outside. */
export interface VerifyDeps {
  clock: Clock;
  /** One progress line (no newline). */
  progress(line: string): void;
  fetch?: typeof fetch;
}

/** A check that is not healthy, as the detailed health reports it. */
export interface CheckView {
  name: string;
  status: HealthStatus;
  critical: boolean;
  error: string | null;
}

/** A critical alert that fails the gate. */
export interface AlertView {
  id: string;
  rule: string;
  status: string;
  message: string;
  labels: Record<string, string>;
  firingAt: string;
  resolvedAt: string | null;
  /** Firing before the window started. */
  alreadyFiring: boolean;
  /** Silences or maintenance windows muting it (it counts anyway). */
  mutedBy: string[];
}

/** Why the gate failed. */
export interface VerifyFailure {
  /** `not-healthy`: never healthy within the timeout; `unhealthy`: fell back in the window. */
  kind: 'not-healthy' | 'unhealthy' | 'alert' | 'unreachable';
  /** When (prodmon's clock when it answered, else this machine's). */
  at: string;
  checks: CheckView[];
  alerts: AlertView[];
  /** The last error reaching prodmon (`unreachable`). */
  error: string | null;
}

/** The verdict (`--json` prints it). */
export interface VerifyResult {
  result: 'passed' | 'failed';
  exitCode: 0 | 1;
  reason: string;
  url: string;
  for: string;
  timeout: string;
  failOn: FailOn;
  /** The first healthy answer, which starts the window (prodmon's clock). */
  windowStart: string | null;
  /** The last answer of a passed window (prodmon's clock). */
  windowEnd: string | null;
  polls: number;
  /** Times prodmon could not be reached (this machine's clock); `to` null while it still was not. */
  unreachable: { from: string; to: string | null; error: string }[];
  failure: VerifyFailure | null;
}

const usage = (message: string) => new ProdmonError('PRODMON_E_CONFIG', message, { exitCode: 2 });
const iso = (ms: number) => new Date(ms).toISOString();

/** A duration option's value in ms, within its bounds; exit 2 naming the option otherwise. */
export function durationOption(name: keyof typeof VERIFY_DURATIONS, value: unknown): number {
  const r = configDuration(value, VERIFY_DURATIONS[name].bounds);
  if (!r.ok) throw usage(`--${name}: ${r.problem}`);
  return r.value;
}

/** prodmon's base URL from `--url` or `PRODMON_URL` (`name`): http(s), no query; no trailing slash. */
export function baseUrl(text: string, name: string): string {
  const shape = `expected prodmon's base URL such as https://prodmon.example.com or http://127.0.0.1:9464/ops, got ${JSON.stringify(text)}`;
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw usage(`${name}: ${shape}`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash || u.username || u.password)
    throw usage(`${name}: ${shape} (http or https, no query, no credentials: pass the token with --token)`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** The config fields verify reads without `--url` (a `${VAR}` elsewhere may be unset). */
export const VERIFY_FIELDS = ['data_dir', 'server.host', 'server.port', 'server.prefix'];
/** ... and these too when no token was given. */
export const VERIFY_TOKEN_FIELDS = ['auth.tokens', 'auth.users'];

/** The host part of a URL for a listen address (a wildcard address is reached on loopback). */
function hostForUrl(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The token of a local config: the first `read` token, else the first `admin`, else the first-run token. */
function localToken(config: ResolvedConfig): { token: string; from: string } | null {
  const t =
    config.auth.tokens.find((x) => x.role === 'read') ?? config.auth.tokens.find((x) => x.role === 'admin');
  if (t) return { token: t.token, from: `auth.tokens "${t.name}" of the config` };
  if (config.auth.tokens.length > 0 || config.auth.users.length > 0) return null;
  const file = join(config.dataDir, FIRST_RUN_FILE);
  try {
    const token = readFileSync(file, 'utf8').trim();
    return token ? { token, from: `the first-run token (${file})` } : null;
  } catch {
    return null;
  }
}

/**
 * Where to verify: `--url`/`PRODMON_URL` with `--token`/`PRODMON_TOKEN`, or the local prodmon of the
 * config (`local()` loads it; only called without a URL).
 */
export function resolveTarget(
  o: { url?: string; token?: string },
  env: NodeJS.ProcessEnv,
  local: (withAuth: boolean) => ResolvedConfig,
): VerifyTarget {
  if (o.token !== undefined && !o.token.trim())
    throw usage('--token: empty; pass a token with the read role');
  const given =
    o.token !== undefined
      ? { token: o.token.trim(), from: '--token' }
      : env.PRODMON_TOKEN?.trim()
        ? { token: env.PRODMON_TOKEN.trim(), from: 'PRODMON_TOKEN' }
        : null;
  const urlText = o.url ?? (env.PRODMON_URL?.trim() ? env.PRODMON_URL : undefined);
  if (urlText !== undefined) {
    const name = o.url !== undefined ? '--url' : 'PRODMON_URL';
    return {
      url: baseUrl(urlText, name),
      urlFrom: name,
      token: given?.token ?? null,
      tokenFrom: given?.from ?? null,
    };
  }
  const config = local(!given);
  const prefix = config.server.prefix;
  const probe = probeDaemon(config);
  let url: string;
  let urlFrom: string;
  let hint: string | undefined;
  if (probe.state === 'running' && probe.info?.url) {
    url = `${probe.info.url}${prefix}`;
    urlFrom = `the prodmon running from ${config.dataDir} (pid ${probe.pid})`;
  } else {
    if (config.server.port === 0)
      throw usage(
        `--url: no prodmon runs from ${config.dataDir} (no pid file) and server.port is 0 (a random port): pass --url or set PRODMON_URL`,
      );
    url = `http://${hostForUrl(config.server.host)}:${config.server.port}${prefix}`;
    urlFrom = "the config's server.host and server.port";
    hint = `no prodmon start runs from ${config.dataDir}; for any other prodmon pass --url or set PRODMON_URL`;
  }
  const token = given ?? localToken(config);
  return {
    url,
    urlFrom,
    token: token?.token ?? null,
    tokenFrom: token?.from ?? null,
    ...(hint ? { hint } : {}),
  };
}

/** `GET /production/health/detailed/`, the fields verify reads. */
interface DetailedHealth {
  status: HealthStatus;
  draining?: boolean;
  generatedAt?: string;
  checks: { name: string; status: HealthStatus; critical: boolean; error: string | null }[];
  pending?: string[];
}

interface ApiAlert {
  id: string;
  rule: string;
  severity: string;
  status: string;
  message: string;
  labels: Record<string, string>;
  firingAt: number | null;
  resolvedAt: number | null;
  mutedBy?: string[];
}

/** `GET /production/alerts/`: the open alerts (`active`) and a page of the history (`alerts`). */
interface AlertsAnswer {
  active: ApiAlert[];
  alerts: ApiAlert[];
}

const isObject = (b: unknown): b is Record<string, unknown> => typeof b === 'object' && b !== null;
const isHealth = (b: unknown): b is DetailedHealth =>
  isObject(b) && HEALTH_STATUSES.includes(b.status as HealthStatus) && Array.isArray(b.checks);
const isAlerts = (b: unknown): b is AlertsAnswer =>
  isObject(b) && Array.isArray(b.active) && Array.isArray(b.alerts);

type Fetched<T> = { ok: true; body: T } | { ok: false; error: string };

/** Why a request got no answer: the cause's code (ECONNREFUSED...) or message. */
function networkError(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer within ${formatDuration(REQUEST_TIMEOUT_MS)}`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code && cause.message && !cause.message.includes(cause.code))
    return `${cause.code} (${cause.message})`;
  return cause?.message ?? cause?.code ?? errorMessage(err);
}

/** The message of prodmon's error body (`{error: {message}}`), else the start of the text. */
async function answerText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON
  }
  return text.slice(0, 200).trim();
}

/** The read API of one prodmon. */
class ApiClient {
  readonly #target: VerifyTarget;
  readonly #fetch: typeof fetch;

  constructor(target: VerifyTarget, fetchFn: typeof fetch = fetch) {
    this.#target = target;
    this.#fetch = fetchFn;
  }

  /** GETs `path`; no answer, 5xx, 404 or a foreign body is `ok: false`; 401/403 end the command (exit 2). */
  async #get<T>(path: string, valid: (b: unknown) => b is T): Promise<Fetched<T>> {
    const t = this.#target;
    let res: Response;
    try {
      res = await this.#fetch(`${t.url}${path}`, {
        headers: { accept: 'application/json', ...(t.token ? { authorization: `Bearer ${t.token}` } : {}) },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      return { ok: false, error: networkError(err) };
    }
    if (res.status === 401 || res.status === 403) {
      const said = await answerText(res);
      const how = 'pass a token with the read role: --token, or PRODMON_TOKEN';
      const what =
        res.status === 403
          ? `prodmon at ${t.url} refused the token from ${t.tokenFrom} (403: ${said}); ${how}`
          : t.token
            ? `prodmon at ${t.url} did not accept the token from ${t.tokenFrom} (401: ${said}); ${how}`
            : `prodmon at ${t.url} needs a token (401: ${said}); ${how}`;
      throw new ProdmonError(res.status === 403 ? 'PRODMON_E_FORBIDDEN' : 'PRODMON_E_UNAUTHORIZED', what, {
        exitCode: 2,
      });
    }
    if (!res.ok) {
      const said = await answerText(res);
      const hint =
        res.status === 404
          ? ": no prodmon API at this URL (is it prodmon's base URL, with its server prefix?)"
          : '';
      return { ok: false, error: `HTTP ${res.status} for ${path}${hint}${said ? ` (${said})` : ''}` };
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      return {
        ok: false,
        error: `${path} answered ${res.status} with no JSON (${networkError(err)}): not prodmon?`,
      };
    }
    if (!valid(body))
      return { ok: false, error: `${path} answered JSON that is not prodmon's: not prodmon?` };
    return { ok: true, body };
  }

  health(): Promise<Fetched<DetailedHealth>> {
    return this.#get('/production/health/detailed/', isHealth);
  }

  /** Critical alerts: the open ones and the history created since `since` (ms, prodmon's clock). */
  criticalAlerts(since: number): Promise<Fetched<AlertsAnswer>> {
    return this.#get(
      `/production/alerts/?severity=critical&status=all&since=${Math.max(0, Math.floor(since))}&limit=500`,
      isAlerts,
    );
  }
}

/** The checks that make the health fail the gate, and a line saying so; null when it passes. */
export function healthProblem(
  h: DetailedHealth,
  failOn: FailOn,
): { status: HealthStatus; checks: CheckView[]; text: string } | null {
  const failing = failOn === 'unhealthy' ? h.status === 'unhealthy' : h.status !== 'healthy';
  if (!failing) return null;
  const checks = h.checks
    .filter(
      (c) => c.status !== 'healthy' && (failOn === 'degraded' || (c.critical && c.status === 'unhealthy')),
    )
    .map((c) => ({ name: c.name, status: c.status, critical: c.critical, error: c.error ?? null }));
  const parts = checks.map(
    (c) =>
      `check "${c.name}" ${c.status}${c.critical ? '' : ' (non-critical)'}${c.error ? `: ${c.error}` : ''}`,
  );
  if (h.pending?.length) parts.push(`no result yet from ${h.pending.map((p) => `"${p}"`).join(', ')}`);
  if (h.draining) parts.unshift('prodmon is draining (shutting down)');
  return {
    status: h.status,
    checks,
    text: `health ${h.status}${parts.length ? `: ${parts.join('; ')}` : ''}`,
  };
}

/** Critical alerts that fail the gate: firing now, or fired, and not resolved before `windowStart`. */
export function criticalHits(a: AlertsAnswer, windowStart: number): AlertView[] {
  const hits = new Map<string, AlertView>();
  for (const x of [...a.active, ...a.alerts]) {
    if (x.severity !== 'critical' || x.firingAt === null || x.status === 'pending' || hits.has(x.id))
      continue;
    if (x.status !== 'firing' && x.resolvedAt !== null && x.resolvedAt < windowStart) continue;
    hits.set(x.id, {
      id: x.id,
      rule: x.rule,
      status: x.status,
      message: x.message,
      labels: x.labels ?? {},
      firingAt: iso(x.firingAt),
      resolvedAt: x.resolvedAt === null ? null : iso(x.resolvedAt),
      alreadyFiring: x.firingAt < windowStart,
      mutedBy: x.mutedBy ?? a.active.find((y) => y.id === x.id)?.mutedBy ?? [],
    });
  }
  return [...hits.values()];
}

/** `critical alert "error_rate" (al_…, route=/x) fired at T: message`. */
function alertText(a: AlertView): string {
  const labels = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`);
  const when = a.alreadyFiring
    ? `was already firing when the window started (since ${a.firingAt})`
    : `fired at ${a.firingAt}`;
  const end = a.resolvedAt ? `, resolved at ${a.resolvedAt}` : '';
  const muted = a.mutedBy.length ? ` (muted by ${a.mutedBy.join(', ')}; counted anyway)` : '';
  return `critical alert "${a.rule}" (${[a.id, ...labels].join(', ')}) ${when}${end}: ${a.message}${muted}`;
}

/** Runs the gate against `target`; resolves with the verdict (401/403 reject with exit code 2). */
export async function runVerify(
  target: VerifyTarget,
  s: VerifySettings,
  deps: VerifyDeps,
): Promise<VerifyResult> {
  const { clock, progress } = deps;
  const api = new ApiClient(target, deps.fetch);
  const t0 = clock.now();
  const out: VerifyResult = {
    result: 'failed',
    exitCode: EXIT.failed,
    reason: '',
    url: target.url,
    for: formatDuration(s.forMs),
    timeout: formatDuration(s.timeoutMs),
    failOn: s.failOn,
    windowStart: null,
    windowEnd: null,
    polls: 0,
    unreachable: [],
    failure: null,
  };
  const timeoutText = `${formatDuration(s.timeoutMs)} (--timeout)`;
  let down: { since: number; error: string } | null = null;

  /**
   * Keeps track of when prodmon stopped and started answering, saying each once: `failed` is the
   * first request of a poll that got no answer (null: all were answered).
   */
  const track = (failed: { error: string } | null): void => {
    const now = clock.now();
    if (!failed) {
      if (down) {
        out.unreachable.at(-1)!.to = iso(now);
        progress(`prodmon answers again, after ${formatDuration(now - down.since)} without an answer`);
        down = null;
      }
      return;
    }
    if (!down) {
      down = { since: now, error: failed.error };
      out.unreachable.push({ from: iso(now), to: null, error: failed.error });
      progress(
        `cannot reach prodmon at ${target.url}: ${failed.error}; retrying every ${formatDuration(s.intervalMs)} for up to ${timeoutText}`,
      );
    } else {
      down.error = failed.error;
      out.unreachable.at(-1)!.error = failed.error;
    }
  };

  const fail = (f: Omit<VerifyFailure, 'at'> & { at?: number }, reason: string): VerifyResult => {
    out.failure = { ...f, at: iso(f.at ?? clock.now()) };
    out.reason = reason;
    return out;
  };
  const unreachable = (d: { since: number; error: string }, during: string) =>
    fail(
      { kind: 'unreachable', at: d.since, checks: [], alerts: [], error: d.error },
      `cannot reach prodmon at ${target.url} (from ${target.urlFrom}${target.hint ? `: ${target.hint}` : ''}) ${during}: ${d.error}; ` +
        `no answer for ${formatDuration(clock.now() - d.since)}, given up after ${timeoutText}. ` +
        'The deployment could not be verified: counted as a failure',
    );

  progress(
    `prodmon verify: ${target.url} (from ${target.urlFrom}; ${target.tokenFrom ? `token from ${target.tokenFrom}` : 'no token'})`,
  );
  const want = s.failOn === 'unhealthy' ? 'healthy or degraded' : 'healthy';
  progress(
    `waiting up to ${timeoutText} for the health to be ${want}; polling every ${formatDuration(s.intervalMs)}`,
  );

  // 1. Wait for healthy.
  let last: ReturnType<typeof healthProblem> = null;
  let startedAt: number;
  for (;;) {
    const r = await api.health();
    out.polls++;
    track(r.ok ? null : r);
    if (r.ok) {
      const p = healthProblem(r.body, s.failOn);
      if (!p) {
        startedAt = Date.parse(r.body.generatedAt ?? '') || clock.now();
        break;
      }
      if (p.text !== last?.text) progress(`not yet: ${p.text}`);
      last = p;
    }
    const waited = clock.now() - t0;
    if (waited >= s.timeoutMs) {
      if (down) return unreachable(down, 'while waiting for it to be healthy');
      return fail(
        { kind: 'not-healthy', checks: last?.checks ?? [], alerts: [], error: null },
        `not ${want} within ${timeoutText}: ${last?.text ?? 'no answer'}`,
      );
    }
    await clock.sleep(Math.min(s.intervalMs, s.timeoutMs - waited));
  }

  // 2. Watch the window.
  const windowStart = clock.now();
  const windowEnd = windowStart + s.forMs;
  out.windowStart = iso(startedAt);
  progress(
    `${want} after ${formatDuration(windowStart - t0)}; watching the health and critical alerts for ${formatDuration(s.forMs)}`,
  );
  let beat = windowStart + HEARTBEAT_MS;
  for (;;) {
    const now = clock.now();
    const final = now >= windowEnd;
    const h = await api.health();
    const a = h.ok ? await api.criticalAlerts(startedAt - HISTORY_LOOKBACK_MS) : h;
    out.polls++;
    track(!h.ok ? h : !a.ok ? a : null);
    if (!h.ok || !a.ok) {
      if (clock.now() - down!.since >= s.timeoutMs) return unreachable(down!, 'during the window');
      await clock.sleep(s.intervalMs);
      continue;
    }
    const at = Date.parse(h.body.generatedAt ?? '') || clock.now();
    const p = healthProblem(h.body, s.failOn);
    const alerts = criticalHits(a.body, startedAt);
    if (p || alerts.length > 0) {
      const reasons = [...(p ? [`${p.text} at ${iso(at)}`] : []), ...alerts.map(alertText)];
      return fail(
        { kind: p ? 'unhealthy' : 'alert', at, checks: p?.checks ?? [], alerts, error: null },
        reasons.join('; '),
      );
    }
    if (final) {
      out.result = 'passed';
      out.exitCode = EXIT.ok;
      out.windowEnd = iso(at);
      const gaps = out.unreachable.length
        ? `; prodmon did not answer ${out.unreachable.length} time(s) in between (see unreachable)`
        : '';
      out.reason = `${target.url} was ${want} for ${formatDuration(s.forMs)} (from ${out.windowStart} to ${out.windowEnd}) with no critical alert firing${gaps}`;
      return out;
    }
    if (now >= beat) {
      progress(`still ${want}, no critical alert; ${formatDuration(windowEnd - now)} left`);
      beat += HEARTBEAT_MS;
    }
    await clock.sleep(Math.max(0, Math.min(s.intervalMs, windowEnd - clock.now())));
  }
}

interface VerifyOptions extends GlobalOptions {
  url?: string;
  token?: string;
  for: string;
  timeout: string;
  interval: string;
  failOn: FailOn;
}

/** Registers `prodmon verify`. */
export function registerVerify(program: Command): void {
  const d = VERIFY_DURATIONS;
  program
    .command('verify')
    .description(
      'deployment gate: wait for the health to be healthy, then watch it and the critical alerts for a while (exit 0 good, 1 not)',
    )
    .option('--url <url>', "prodmon's base URL (default: $PRODMON_URL, else the local prodmon of the config)")
    .option(
      '--token <token>',
      'API token with the read role (default: $PRODMON_TOKEN, else from the local config)',
    )
    .option(
      '--for <duration>',
      `how long to watch once healthy (${d.for.bounds.min} to ${d.for.bounds.max})`,
      d.for.default,
    )
    .option(
      '--timeout <duration>',
      `how long to wait for healthy, and for prodmon to answer again (${d.timeout.bounds.min} to ${d.timeout.bounds.max})`,
      d.timeout.default,
    )
    .option(
      '--interval <duration>',
      `time between polls (${d.interval.bounds.min} to ${d.interval.bounds.max})`,
      d.interval.default,
    )
    .addOption(
      new Option('--fail-on <level>', 'health status that fails the gate')
        .choices(['degraded', 'unhealthy'])
        .default('degraded'),
    )
    .option('--json', 'print the verdict as JSON')
    .action(async (_o, cmd: Command) => {
      const o = globalOptions(cmd) as VerifyOptions;
      let token: string | null = null;
      await runCommand(
        o,
        async () => {
          const settings: VerifySettings = {
            forMs: durationOption('for', o.for),
            timeoutMs: durationOption('timeout', o.timeout),
            intervalMs: durationOption('interval', o.interval),
            failOn: o.failOn,
          };
          const target = resolveTarget(o, process.env, (withAuth) =>
            configFrom(o, { pick: withAuth ? [...VERIFY_FIELDS, ...VERIFY_TOKEN_FIELDS] : VERIFY_FIELDS }),
          );
          token = target.token;
          const result = await runVerify(target, settings, {
            clock: systemClock,
            progress: (line) => process.stderr.write(`${line}\n`),
          });
          if (o.json) printJson(result);
          else
            process.stdout.write(`${result.result === 'passed' ? 'PASSED' : 'FAILED'}: ${result.reason}\n`);
          return result.exitCode;
        },
        () => (token ? [token] : []),
      );
    });
}
