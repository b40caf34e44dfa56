/**
 * Writes the README's config reference: every key of the schema at its default, durations and sizes in
 * their written form. `test/readme.test.ts` checks the result against the schema, so it cannot drift.
 * Run: `node --import tsx scripts/config-reference.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from '../src/config/load.js';

const opts = { env: {}, cwd: '/x' };
const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
const defaults = plain(parseConfig({}, opts));
for (const k of ['source', 'dataDir', 'instanceId', 'paths']) delete defaults[k];

function setAt(path: string[], value: unknown): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let cur = root;
  path.forEach((k, i) => {
    if (i === path.length - 1) cur[k] = value;
    else cur = cur[k] = {} as Record<string, unknown>;
  });
  return root;
}

function getAt(obj: unknown, path: string[]): unknown {
  return path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

/**
 * `setAt(path, value)` with the string keys of the defaults along the path kept, so a leaf under a
 * discriminated union (`store.driver: sqlite`) parses as the default variant.
 */
function probeInput(path: string[], value: unknown): Record<string, unknown> {
  const root = setAt(path, value);
  let cur = root;
  let dflt: unknown = defaults;
  for (const k of path.slice(0, -1)) {
    cur = cur[k] as Record<string, unknown>;
    dflt = (dflt as Record<string, unknown> | undefined)?.[k];
    for (const [dk, dv] of Object.entries((dflt as Record<string, unknown>) ?? {}))
      if (typeof dv === 'string' && !(dk in cur)) cur[dk] = dv;
  }
  return root;
}

/** What a numeric leaf is written as: a duration, a size, or a plain number. */
function kindOf(path: string[]): 'duration' | 'size' | 'number' {
  const attempt = (text: string) => {
    try {
      return getAt(plain(parseConfig(probeInput(path, text), opts)), path);
    } catch (err) {
      if (err instanceof ConfigError) return undefined;
      throw err;
    }
  };
  if (attempt('7s') === 7000) return 'duration';
  if (attempt('7MB') === 7 * 1024 * 1024) return 'size';
  return 'number';
}

function formatDuration(ms: number): string {
  for (const [unit, f] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= f && ms % f === 0) return `${ms / f}${unit}`;
  }
  return `${ms}ms`;
}

function formatSize(bytes: number): string {
  for (const [unit, f] of [
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['KB', 1024],
  ] as const) {
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${unit}`;
  }
  return String(bytes);
}

function humanize(value: unknown, path: string[]): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, humanize(v, [...path, k])]));
  }
  if (typeof value === 'number') {
    const kind = kindOf(path);
    if (kind === 'duration') return formatDuration(value);
    if (kind === 'size') return formatSize(value);
  }
  return value;
}

const yaml = stringify(humanize(defaults, []), { lineWidth: 0 });
const readmePath = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmePath, 'utf8');
const block = /(<!-- config-reference:start -->\s*```yaml\n)[\s\S]*?(```\s*<!-- config-reference:end -->)/;
if (!block.test(readme)) throw new Error('README.md has no config-reference block');
writeFileSync(
  readmePath,
  readme.replace(block, (_m, a: string, b: string) => `${a}${yaml}${b}`),
);
process.stdout.write(`config reference: ${yaml.split('\n').length} lines\n`);
