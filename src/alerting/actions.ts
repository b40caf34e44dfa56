/**
 * What a person does to alerts: resolve one by hand, silence matching alerts, end a silence. Each
 * action is coded once, here: the HTTP API, the dashboard's forms and JSON API, and the CLI only
 * translate a request into a call. An action writes its rows and audit row in one transaction (see
 * resolveAlert, createSilence, expireSilence), then one line to the security log, whoever asked.
 *
 * A resolution goes through the running alert engine when there is one (it hands the resolution to
 * the notification sink at once and forgets the alert's open state); without one (the CLI), through
 * the store: the resolution is marked owed and the running engine notifies it.
 */
import type { Clock } from '../core/clock.js';
import type { StoredAlert } from '../domain/alert.js';
import type { Silence } from '../domain/silence.js';
import type { Store } from '../store/index.js';
import { resolveAlert } from './resolve.js';
import { createSilence, expireSilence, type SilenceRequest } from './silences.js';
import type { AlertingLogger } from './sources.js';

/** A request to resolve an alert by hand. */
export interface ResolveRequest {
  id: string;
  reason: string;
  /** The token's or user's name (HTTP, dashboard) or `cli:<user>` (CLI). */
  actor: string;
}

/** The alert actions. */
export interface AlertActions {
  /** Resolves an open alert by hand (400 without reason, 404 unknown, 409 already resolved). */
  resolve(r: ResolveRequest): Promise<StoredAlert>;
  /** Creates a silence (400 naming what is wrong). */
  silence(req: SilenceRequest): Promise<Silence>;
  /** Ends a silence now (404 unknown, 409 already ended). */
  expireSilence(id: string, actor: string): Promise<Silence>;
}

/** The part of the alert engine a resolution goes through. */
export interface ResolvingEngine {
  /** Resolves in the engine's queue, with its sink; writes no log line (the action does). */
  resolve(r: ResolveRequest): Promise<StoredAlert>;
}

/** What the actions are built from. */
export interface AlertActionDeps {
  store: Pick<Store, 'transaction'>;
  clock: Clock;
  /** The security stream gets one line per action. */
  logger: AlertingLogger;
  /** The running engine (absent in the CLI: the resolution is marked owed in the store). */
  engine?: ResolvingEngine;
  /** Called after each action that changed something (e.g. the dashboard's live stream). */
  onChange?: () => void;
}

/** The log line of a manual resolution. */
export function logResolution(logger: AlertingLogger, a: StoredAlert): void {
  if (!a.resolution) return;
  info(
    logger,
    {
      event: 'alert.resolve',
      alert: a.id,
      rule: a.rule,
      actor: a.resolution.by,
      reason: a.resolution.reason,
      at: new Date(a.resolution.at).toISOString(),
    },
    'alert resolved by hand',
  );
}

function info(logger: AlertingLogger, entry: Record<string, unknown>, msg: string): void {
  const log = logger.security;
  if (!log) return;
  (log.info ?? log.warn).call(log, entry, msg);
}

/** The actions over one store (and engine, when running). */
export function alertActions(d: AlertActionDeps): AlertActions {
  const changed = () => d.onChange?.();
  return {
    async resolve(r) {
      const resolved = d.engine
        ? await d.engine.resolve(r)
        : await d.store.transaction((tx) => resolveAlert(tx, { ...r, now: d.clock.now() }));
      logResolution(d.logger, resolved);
      changed();
      return resolved;
    },
    async silence(req) {
      const s = await d.store.transaction((tx) => createSilence(tx, req, d.clock.now()));
      info(
        d.logger,
        {
          event: 'silence.create',
          silence: s.id,
          actor: s.createdBy,
          matchers: s.matchers,
          comment: s.comment,
        },
        'silence created',
      );
      changed();
      return s;
    },
    async expireSilence(id, actor) {
      const s = await d.store.transaction((tx) => expireSilence(tx, id, actor, d.clock.now()));
      info(d.logger, { event: 'silence.expire', silence: s.id, actor }, 'silence expired');
      changed();
      return s;
    },
  };
}
