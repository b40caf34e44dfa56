/** The README cannot drift: its config reference is the schema's defaults, its CLI table lists every command. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { buildProgram } from '../src/cli/main.js';
import { parseConfig } from '../src/config/load.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function leafPaths(value: unknown, prefix = ''): string[] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

test('the README config reference is a valid config listing every key at its default', () => {
  const m = /<!-- config-reference:start -->\s*```yaml\n([\s\S]*?)```\s*<!-- config-reference:end -->/.exec(
    readme,
  );
  assert.ok(m, 'the README has a config reference block');
  const raw = parse(m[1]!) as Record<string, unknown>;
  const env = {};
  const fromReadme = parseConfig(raw, { env, cwd: '/x' });
  const defaults = parseConfig({}, { env, cwd: '/x' });
  assert.deepEqual(JSON.parse(JSON.stringify(fromReadme)), JSON.parse(JSON.stringify(defaults)));
  const documented = new Set(leafPaths(raw));
  const missing = leafPaths(JSON.parse(JSON.stringify(defaults)))
    .filter((p) => !['source', 'dataDir', 'instanceId'].includes(p) && !p.startsWith('paths.'))
    .filter((p) => !documented.has(p));
  assert.deepEqual(missing, [], 'keys missing from the README reference');
});

test('the README CLI table lists every command', () => {
  const names = buildProgram().commands.map((c) => c.name());
  for (const name of names)
    assert.match(readme, new RegExp(`\`prodmon ${name}\\b`), `prodmon ${name} is documented`);
});
