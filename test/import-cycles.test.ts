/**
 * No import cycle anywhere in src/, type imports included: a cycle ties modules that should depend one
 * way (the config on the plugins it lists, the engine on the server that serves it...) and makes the
 * order of evaluation decide what is defined.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree } from 'dpdm';

const root = fileURLToPath(new URL('..', import.meta.url));

test('src/ has no import cycle (type imports included)', async () => {
  const tree = await parseDependencyTree(['src/index.ts', 'src/agent.ts', 'src/cli/main.ts', 'src/**/*.ts'], {
    cwd: root,
    context: root,
    tsconfig: `${root}tsconfig.json`,
    transform: false, // keep `import type`: a cycle of types is a cycle of concepts
    skipDynamicImports: false,
  });
  const files = Object.keys(tree).filter((f) => f.startsWith('src/'));
  assert.ok(files.length > 100, `dpdm parsed only ${files.length} files of src/`);
  const cycles = parseCircular(tree);
  assert.equal(
    cycles.length,
    0,
    `${cycles.length} import cycle(s) in src/:\n${cycles.map((c, i) => `${i + 1}) ${c.join(' -> ')}`).join('\n')}`,
  );
});
