/**
 * The dashboard's HTML forms as zod schemas: every field a form handler reads is read and checked
 * here, once. A bad field is a PRODMON_E_BAD_REQUEST naming it (`"reason": must be at most 1000
 * characters`), which the handlers answer with a 400 page; nothing is done then. Bodies come from the
 * form parser (a field sent twice is an array: refused, naming it) or, embedded behind a host app's
 * body parser, as its parsed object. Fields a schema does not name (`_csrf`, checked by the session;
 * `back`) are left to their own readers.
 */
import { z } from 'zod';
import { MAX_RESOLUTION_REASON } from '../alerting/resolve.js';
import { ProdmonError } from '../core/errors.js';
import { safeReturn } from './http.js';

/** The longest user name the sign-in form takes (characters). */
export const MAX_SIGN_IN_NAME = 200;
/** The longest password the sign-in form takes (characters; scrypt is given no more). */
export const MAX_SIGN_IN_PASSWORD = 1024;
/** The duration of a silence whose form names none. */
export const DEFAULT_SILENCE_DURATION = '4h';

/** One text field, '' when absent; at most `max` characters when given. */
function text(max?: number) {
  const s = z.string({
    error: (iss) => (Array.isArray(iss.input) ? 'must be given once' : 'must be text'),
  });
  return (
    max === undefined
      ? s
      : s.max(max, {
          error: (iss) => `must be at most ${max} characters, got ${(iss.input as string).length}`,
        })
  ).default('');
}

/** A repeated field (checkboxes): every value given, none when absent. */
const list = () =>
  z
    .union([z.string(), z.array(z.string())], { error: 'must be text' })
    .optional()
    .transform((v) => (v === undefined ? [] : [v].flat()));

/** A form body: an object (none is an empty form). */
const form = <T extends z.ZodRawShape>(shape: T) =>
  z.preprocess((b) => b ?? {}, z.object(shape, { error: 'expected a form' }));

/**
 * Reads `body` with a form schema; the first bad field is a PRODMON_E_BAD_REQUEST naming it.
 * @throws ProdmonError
 */
export function parseForm<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const name = issue?.path[0];
  throw new ProdmonError(
    'PRODMON_E_BAD_REQUEST',
    name === undefined ? (issue?.message ?? 'bad form') : `"${String(name)}": ${issue?.message}`,
  );
}

/**
 * The return path of a form or link (`back`, `next`): a same-site path under `base`, anything else
 * (absent, sent twice, another site, a traversal) is `fallback`. Never an error: a return path only
 * says where to go next, and a bad one must not keep the action from being done.
 */
export function returnPath(body: unknown, key: string, base: string, fallback: string): string {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
  return safeReturn(typeof v === 'string' ? v : '', base, fallback);
}

/** `POST .../alerts/:id/resolve`: why (required by the resolution itself, which names it). */
export const resolveForm = form({ reason: text(MAX_RESOLUTION_REASON) });

/** `name=value` pairs of the silence form (`label` checkboxes, the comma list `labels`) as labels. */
function pairs(field: string, items: readonly string[], into: Record<string, string>, ctx: z.RefinementCtx) {
  for (const item of items) {
    if (!item.trim()) continue;
    const i = item.indexOf('=');
    if (i > 0 && item.slice(0, i).trim()) {
      into[item.slice(0, i).trim()] = item.slice(i + 1).trim();
      continue;
    }
    ctx.addIssue({
      code: 'custom',
      path: [field],
      message: `expected name=value pairs such as route=/checkout, got ${JSON.stringify(item.slice(0, 100))}`,
    });
  }
}

/**
 * `POST .../silences`: the form's fields as the JSON API's silence body (`silenceFromBody` then checks
 * the matchers, the duration's unit and bounds and the comment, naming the field). A duration typed by
 * hand needs a unit, as in the config, the API and the CLI (`30` is no 30 ms); none is 4h.
 */
export const silenceForm = form({
  rule: text(),
  type: text(),
  label: list(),
  labels: text(),
  duration: text(),
  comment: text(),
}).transform((f, ctx) => {
  const labels: Record<string, string> = {};
  pairs('label', f.label, labels, ctx);
  pairs('labels', f.labels.split(','), labels, ctx);
  return {
    rule: f.rule.trim() || undefined,
    type: f.type || undefined,
    labels: Object.keys(labels).length ? labels : undefined,
    duration: f.duration.trim() || DEFAULT_SILENCE_DURATION,
    comment: f.comment,
  };
});

/** `POST .../login`: the double-submit token, and an API token or a user name and password. */
export const signInForm = form({
  _csrf: text(),
  token: text(),
  name: text(MAX_SIGN_IN_NAME),
  password: text(MAX_SIGN_IN_PASSWORD),
});
