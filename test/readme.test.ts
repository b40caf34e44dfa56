/**
 * The docs cannot drift: the config reference of docs/configuration.md is the schema's defaults and its
 * bounds, and the command table of docs/cli.md lists every command.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { buildProgram } from '../src/cli/main.js';
import { parseConfig } from '../src/config/load.js';
import { boundsTable, referenceYaml } from '../src/config/reference.js';

const configDoc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
const cliDoc = readFileSync(new URL('../docs/cli.md', import.meta.url), 'utf8');

function setAt(path: string[], value: unknown): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let cur = root;
  path.forEach((k, i) => {
    if (i === path.length - 1) cur[k] = value;
    else cur = cur[k] = {} as Record<string, unknown>;
  });
  return root;
}

function leafPaths(value: unknown, prefix = ''): string[] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

test('the config reference is a valid config listing every key at its default', () => {
  const m = /<!-- config-reference:start -->\s*```yaml\n([\s\S]*?)```\s*<!-- config-reference:end -->/.exec(
    configDoc,
  );
  assert.ok(m, 'docs/configuration.md has a config reference block');
  const raw = parse(m[1]!) as Record<string, unknown>;
  const env = {};
  const fromDoc = parseConfig(raw, { env, cwd: '/x' });
  const defaults = parseConfig({}, { env, cwd: '/x' });
  assert.deepEqual(JSON.parse(JSON.stringify(fromDoc)), JSON.parse(JSON.stringify(defaults)));
  const documented = new Set(leafPaths(raw));
  const missing = leafPaths(JSON.parse(JSON.stringify(defaults)))
    .filter((p) => !['source', 'dataDir', 'instanceId'].includes(p) && !p.startsWith('paths.'))
    .filter((p) => !documented.has(p));
  assert.deepEqual(missing, [], 'keys missing from the reference in docs/configuration.md');
});

test('the reference and bounds table are what the schema generates (scripts/config-reference.ts)', () => {
  const yaml =
    /<!-- config-reference:start -->\s*```yaml\n([\s\S]*?)```\s*<!-- config-reference:end -->/.exec(
      configDoc,
    );
  const bounds = /<!-- config-bounds:start -->\n([\s\S]*?)\n<!-- config-bounds:end -->/.exec(configDoc);
  assert.equal(yaml?.[1], referenceYaml(), 'run node --import tsx scripts/config-reference.ts');
  assert.equal(bounds?.[1], boundsTable(), 'run node --import tsx scripts/config-reference.ts');
  // Each bound in the table is the one the schema enforces: just past it is refused, naming the bound.
  for (const [path, value, bound] of [
    ['health.refresh_interval', '999ms', 'must be at least 1s'],
    ['alerting.evaluation_interval', '61m', 'must be at most 1h'],
    ['metrics.max_series', 100_001, 'must be at most 100000'],
  ] as const) {
    const row = new RegExp(`^\\| \`${path.replace('.', '\\.')}\` \\|`, 'm');
    assert.match(bounds![1]!, row, `${path} is in the table`);
    const doc = setAt(path.split('.'), value);
    assert.throws(() => parseConfig(doc, { env: {}, cwd: '/x' }), new RegExp(`${path}: ${bound}`));
  }
});

test('the CLI table of docs/cli.md lists every command', () => {
  const names = buildProgram().commands.map((c) => c.name());
  for (const name of names)
    assert.match(cliDoc, new RegExp(`\`prodmon ${name}\\b`), `prodmon ${name} is documented`);
});
