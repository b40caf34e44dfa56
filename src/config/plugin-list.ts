/**
 * Validation of plugin entries (health checks, notification channels): each entry names a `kind`, and
 * its options sit beside the common keys. The kind's own shape is merged with the common one into one
 * strict object, so an unknown option is reported with a suggestion, like any other key.
 */
import { z } from 'zod';
import { describeIssue } from './issues.js';
import { nearestKey, obj } from './zod-helpers.js';

/** What a plugin contributes to config validation. */
export interface PluginShape {
  kind: string;
  /** The kind's own options (zod raw shape); common keys are added by the list. */
  shape: z.ZodRawShape;
}

/** The entry schema of every plugin list, with its common keys and kinds (read by the config reference). */
export const pluginEntries = new WeakMap<
  z.ZodType,
  { common: z.ZodRawShape; plugins: () => readonly PluginShape[] }
>();

/**
 * An array of plugin entries: `{ kind, ...common, ...kindOptions }`, each validated against its kind's
 * schema; the output keeps the entries flat (`{ name, kind, timeout, url, ... }`).
 */
export function pluginList<C extends z.ZodRawShape>(
  what: string,
  common: C,
  plugins: () => readonly PluginShape[],
) {
  const schemas = new Map<string, z.ZodType>();
  const schemaFor = (kind: string) => {
    let s = schemas.get(kind);
    if (!s) {
      const p = plugins().find((x) => x.kind === kind);
      if (!p) return undefined;
      s = obj({ ...common, ...p.shape, kind: z.literal(kind) });
      schemas.set(kind, s);
    }
    return s;
  };
  const entry = z
    .looseObject({ kind: z.string({ error: `expected a ${what} kind` }) })
    .transform((raw, ctx) => {
      const schema = schemaFor(raw.kind);
      if (!schema) {
        const kinds = plugins().map((p) => p.kind);
        const near = nearestKey(raw.kind, kinds);
        ctx.addIssue({
          code: 'custom',
          path: ['kind'],
          message: `unknown ${what} kind "${raw.kind}"${near ? ` (did you mean "${near}"?)` : ''}; known kinds: ${kinds.join(', ')}`,
        });
        return z.NEVER;
      }
      const r = schema.safeParse(raw, { reportInput: true });
      if (!r.success) {
        for (const iss of r.error.issues) {
          ctx.addIssue({ code: 'custom', path: iss.path as PropertyKey[], message: describeIssue(iss) });
        }
        return z.NEVER;
      }
      return r.data as z.output<z.ZodObject<C>> & { kind: string } & Record<string, unknown>;
    });
  pluginEntries.set(entry, { common, plugins });
  return z.array(entry);
}
