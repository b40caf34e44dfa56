/**
 * Recording a deploy marker, coded once: `POST /production/api/deployments` and `prodmon deploy mark`
 * (on the local store) only translate a request into a {@link MarkRequest}. The input is validated by
 * one zod schema whose messages name the field as the caller knows it (`"version"` over HTTP,
 * `--version` in the CLI); the marker and its audit row are written in one transaction, then one line
 * goes to the security log, as the alert actions do (src/alerting/actions.ts).
 */
import { z } from 'zod';
import { parseParams } from '../alerting/query.js';
import type { AlertingLogger } from '../alerting/sources.js';
import { unknownKeysMessage } from '../config/zod-helpers.js';
import { inTimeRange } from '../core/bounds.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { ProdmonError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import {
  type Deployment,
  MAX_BY_LENGTH,
  MAX_DEPLOY_AHEAD_MS,
  MAX_INSTANCE_LENGTH,
  MAX_NOTE_LENGTH,
  MAX_VERSION_LENGTH,
} from '../domain/deployment.js';
import type { Repos } from '../store/index.js';

/** What a caller asks to record (unvalidated: a JSON body's fields, or the CLI's options). */
export interface MarkRequest {
  version?: unknown;
  instance?: unknown;
  note?: unknown;
  /** When it was deployed: ms since the epoch or an ISO date-time (default: now). */
  at?: unknown;
  /** Who records it (the token's or user's name, `--by`, `cli:<user>`). */
  by: string;
}

/** How a caller names the fields in its errors. */
export interface MarkFields {
  version: string;
  instance: string;
  note: string;
  at: string;
  by: string;
}

/** The JSON API's names. */
export const API_FIELDS: MarkFields = {
  version: '"version"',
  instance: '"instance"',
  note: '"note"',
  at: '"at"',
  by: 'the caller',
};

/** The CLI's names. */
export const CLI_FIELDS: MarkFields = {
  version: '--version',
  instance: '--instance',
  note: '--note',
  at: '--at',
  by: '--by',
};

/** The shape of the JSON body, for error messages. */
export const MARK_SHAPE =
  '{"version": "v1.4.2", "instance": "web-1", "note": "...", "at": "2026-03-01T12:00:00Z"}';

const CONTROL = /[\u0000-\u001f\u007f]/;
/** Instance names as pushed metrics name them (src/metrics/wire.ts). */
const INSTANCE = new RegExp(`^[\\w.:@/-]{1,${MAX_INSTANCE_LENGTH}}$`);

const missing = (input: unknown) => input === undefined || input === null;

/** A one-line text field of at most `max` characters (trimmed). */
function line(name: string, max: number, what: string) {
  return z
    .string({
      error: (iss) => (missing(iss.input) ? `${name} is required (${what})` : `${name} must be a string`),
    })
    .trim()
    .min(1, { error: `${name} must not be empty (${what})` })
    .max(max, { error: `${name} is longer than ${max} characters` })
    .refine((v) => !CONTROL.test(v), {
      error: `${name} must not hold control characters (line breaks, tabs)`,
    });
}

/** The schema of a request at `now`, its messages naming the fields as `f` says. */
function markSchema(f: MarkFields, now: number) {
  return z.object(
    {
      version: line(f.version, MAX_VERSION_LENGTH, 'the version deployed, e.g. v1.4.2'),
      instance: z
        .string({ error: `${f.instance} must be a string` })
        .regex(INSTANCE, {
          error: `${f.instance} must be 1-${MAX_INSTANCE_LENGTH} characters of letters, digits and _.:@/-`,
        })
        .nullish()
        .transform((v) => v ?? null),
      note: z
        .string({ error: `${f.note} must be a string` })
        .trim()
        .max(MAX_NOTE_LENGTH, { error: `${f.note} is longer than ${MAX_NOTE_LENGTH} characters` })
        .nullish()
        .transform((v) => (v ? v : null)),
      at: z
        .union([z.number(), z.string()], {
          error: `${f.at} must be an ISO date-time or ms since the epoch`,
        })
        .nullish()
        .transform((v, ctx) => {
          if (v === undefined || v === null) return now;
          const t = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v) : Date.parse(v);
          if (!inTimeRange(t)) {
            ctx.addIssue({
              code: 'custom',
              message: `${f.at} must be an ISO date-time or ms since the epoch (1970 to 9999)`,
            });
            return z.NEVER;
          }
          if (t > now + MAX_DEPLOY_AHEAD_MS) {
            ctx.addIssue({
              code: 'custom',
              message: `${f.at} is more than ${formatDuration(MAX_DEPLOY_AHEAD_MS)} in the future`,
            });
            return z.NEVER;
          }
          return Math.floor(t);
        }),
      by: line(f.by, MAX_BY_LENGTH, 'who records it'),
    },
    { error: `expected a JSON object: ${MARK_SHAPE}` },
  );
}

const BODY_KEYS = ['version', 'instance', 'note', 'at'] as const;

const bad = (message: string) => new ProdmonError('PRODMON_E_BAD_REQUEST', message, { exitCode: 2 });

/**
 * The request of a JSON body, recorded by `by` (the caller: a body cannot say who records it). A body
 * that is not an object, or has a key besides version, instance, note and at, is a 400 naming it.
 */
export function markRequestFromBody(body: unknown, by: string): MarkRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw bad(`expected a JSON object: ${MARK_SHAPE}`);
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !(BODY_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) throw bad(unknownKeysMessage(unknown, BODY_KEYS));
  return { version: b.version, instance: b.instance, note: b.note, at: b.at, by };
}

/** Validates a request into a marker (throws PRODMON_E_BAD_REQUEST, exit code 2, naming the field). */
export function buildDeployment(req: MarkRequest, now: number, fields: MarkFields = API_FIELDS): Deployment {
  const p = parseParams(markSchema(fields, now), req);
  return {
    id: newId(now, 'dp_'),
    version: p.version,
    instance: p.instance,
    note: p.note,
    at: p.at,
    by: p.by,
  };
}

/** What recording needs. */
export interface MarkDeps {
  store: { transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> };
  clock: Clock;
  /** The security stream gets one line per marker. */
  logger: AlertingLogger;
  /** Called once a marker is stored (e.g. the dashboard's live stream). */
  onChange?: () => void;
}

/** Validates and stores a marker with its audit row, logs it; returns it. */
export async function markDeployment(
  d: MarkDeps,
  req: MarkRequest,
  fields: MarkFields = API_FIELDS,
): Promise<Deployment> {
  const now = d.clock.now();
  const marker = buildDeployment(req, now, fields);
  await d.store.transaction(async (tx) => {
    await tx.deployments.record(marker);
    await tx.audit.append({
      at: now,
      actor: marker.by,
      action: 'deploy.mark',
      target: marker.id,
      detail: { version: marker.version, instance: marker.instance, note: marker.note, at: marker.at },
    });
  });
  const log = d.logger.security;
  if (log) {
    (log.info ?? log.warn).call(
      log,
      {
        event: 'deploy.mark',
        deployment: marker.id,
        version: marker.version,
        instance: marker.instance,
        actor: marker.by,
        at: new Date(marker.at).toISOString(),
      },
      'deploy marker recorded',
    );
  }
  d.onChange?.();
  return marker;
}
