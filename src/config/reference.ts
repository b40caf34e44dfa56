/**
 * The config reference of docs/configuration.md, generated from the schema: every key at its default
 * with its bounds as a comment, and a table of the bounds of every duration, size and bounded number,
 * list entries included. `scripts/config-reference.ts` writes both into docs/configuration.md;
 * `test/readme.test.ts` checks them.
 */
import { Document, type Scalar } from 'yaml';
import type { z } from 'zod';
import { writtenDuration, writtenSize } from '../core/duration.js';
import { parseConfig } from './load.js';
import { pluginEntries } from './plugin-list.js';
import { configSchema } from './schema.js';
import { amounts } from './zod-helpers.js';

/** A field the reference shows with a unit or bounds. */
export interface FieldInfo {
  /** Dotted path; `[]` for the entries of a list (`health.checks[].timeout`). */
  path: string;
  kind: 'duration' | 'size' | 'number';
  min?: string;
  max?: string;
  /** For keys of plugin entries that only some kinds have: those kinds. */
  kinds?: string[];
}

type Def = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
};

function walk(schema: z.ZodType, path: string, add: (f: FieldInfo) => void, kind?: string): void {
  const meta = amounts.get(schema);
  if (meta) {
    add({ path, kind: meta.kind, min: meta.min, max: meta.max, kinds: kind ? [kind] : undefined });
    return;
  }
  const plugins = pluginEntries.get(schema);
  if (plugins) {
    for (const [k, v] of Object.entries(plugins.common)) walk(v as z.ZodType, `${path}.${k}`, add);
    for (const p of plugins.plugins())
      for (const [k, v] of Object.entries(p.shape)) walk(v as z.ZodType, `${path}.${k}`, add, p.kind);
    return;
  }
  const def = schema._zod.def as unknown as Def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      walk(def.innerType!, path, add, kind);
      return;
    case 'pipe':
      walk(def.in!, path, add, kind);
      return;
    case 'object': {
      const children = Object.entries(def.shape!).map(([k, v]) => {
        const rows: FieldInfo[] = [];
        walk(v, '', (f) => rows.push(f), kind);
        return { k, rows };
      });
      // Keys with the same fields and bounds each (the six built-in thresholds) are shown once, as `*`.
      const sig = (rows: FieldInfo[]) => JSON.stringify(rows);
      const same =
        children.length >= 3 &&
        children[0]!.rows.length > 0 &&
        children.every((c) => sig(c.rows) === sig(children[0]!.rows));
      for (const c of same ? [{ k: '*', rows: children[0]!.rows }] : children) {
        const at = path ? `${path}.${c.k}` : c.k;
        for (const f of c.rows)
          add({ ...f, path: f.path ? `${at}${f.path.startsWith('[') ? '' : '.'}${f.path}` : at });
      }
      return;
    }
    case 'array':
      walk(def.element!, `${path}[]`, add, kind);
      return;
    case 'union':
      for (const o of def.options!) walk(o, path, add, kind);
      return;
    case 'number': {
      const n = schema as z.ZodNumber;
      // `.int()` alone sets the safe-integer range: not a documented bound.
      const bound = (v: number | null) =>
        v !== null && Number.isFinite(v) && Math.abs(v) < Number.MAX_SAFE_INTEGER ? String(v) : undefined;
      const min = bound(n.minValue);
      const max = bound(n.maxValue);
      if (min !== undefined || max !== undefined)
        add({ path, kind: 'number', min, max, kinds: kind ? [kind] : undefined });
      return;
    }
  }
}

/** Every duration, size and bounded number of the schema, in schema order. */
export function configFields(): FieldInfo[] {
  const fields = new Map<string, FieldInfo>();
  walk(configSchema, '', (f) => {
    const key = `${f.path}|${f.kind}|${f.min}|${f.max}`;
    const seen = fields.get(key);
    if (!seen) fields.set(key, f);
    else if (seen.kinds && f.kinds) seen.kinds.push(...f.kinds);
  });
  return [...fields.values()];
}

const least = (f: FieldInfo) => f.min ?? (f.kind === 'number' ? 'no limit' : '0');
const most = (f: FieldInfo) => f.max ?? 'no limit';

/** How a bound reads in the reference. */
function range(f: FieldInfo): string {
  if (f.min === undefined) return `at most ${f.max}`;
  if (f.max === undefined) return `at least ${f.min}`;
  return `${f.min} to ${f.max}`;
}

/** The reference block: every key at its default, durations and sizes written with units, bounds as comments. */
export function referenceYaml(): string {
  const plain = JSON.parse(JSON.stringify(parseConfig({}, { env: {}, cwd: '/x' }))) as Record<
    string,
    unknown
  >;
  for (const k of ['source', 'dataDir', 'instanceId', 'paths']) delete plain[k];
  const fields = new Map(configFields().map((f) => [f.path, f]));
  const humanize = (value: unknown, path: string): unknown => {
    if (value && typeof value === 'object' && !Array.isArray(value))
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, humanize(v, path ? `${path}.${k}` : k)]),
      );
    const f = fields.get(path);
    if (typeof value === 'number' && f?.kind === 'duration') return writtenDuration(value);
    if (typeof value === 'number' && f?.kind === 'size') return writtenSize(value);
    return value;
  };
  const doc = new Document(humanize(plain, ''));
  for (const f of fields.values()) {
    const node = doc.getIn(f.path.split('.'), true) as Scalar | undefined;
    if (node && (f.min !== undefined || f.max !== undefined)) node.comment = ` ${range(f)}`;
  }
  return doc.toString({ lineWidth: 0 });
}

/** The table of bounds: every duration, size and bounded number, list entries included. */
export function boundsTable(): string {
  const rows = configFields().map((f) => {
    const kinds = f.kinds ? ` (${f.kinds.map((k) => `\`${k}\``).join(', ')})` : '';
    return `| \`${f.path}\`${kinds} | ${f.kind} | ${least(f)} | ${most(f)} |`;
  });
  return ['| key | kind | at least | at most |', '|---|---|---|---|', ...rows].join('\n');
}
