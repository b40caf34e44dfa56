/**
 * The public API: what `prodmon` and `prodmon/agent` export at run time is pinned here, so a name
 * cannot be added (and become something users depend on) or dropped by accident. Every name the docs
 * import from either entry is exported, and every `monitor.x` / `agent.x` the README's and docs' examples call
 * is a member of the `Monitor` interface and of a monitor (agent) as created.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as agentEntry from '../src/agent.js';
import * as mainEntry from '../src/index.js';
import { tempDir } from './support/services.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const MAIN_RUNTIME = ['ConfigError', 'ProdmonError', 'createMonitor', 'listArchives', 'readArchive'];
const AGENT_RUNTIME = ['ConfigError', 'ProdmonError', 'createAgent'];

/** The README and every Markdown file under docs/. */
function docs(): { file: string; text: string }[] {
  const out = [{ file: 'README.md', text: readFileSync(join(ROOT, 'README.md'), 'utf8') }];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.md')) out.push({ file: rel, text: readFileSync(join(ROOT, rel), 'utf8') });
    }
  };
  walk('docs');
  return out;
}

/** Names the docs import from `entry` (`import { a, type B } from 'prodmon'`), with whether each is a type. */
function documentedImports(entry: string): { name: string; type: boolean; file: string }[] {
  const out: { name: string; type: boolean; file: string }[] = [];
  const re = /import\s+(type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g;
  for (const { file, text } of docs()) {
    for (const m of text.matchAll(re)) {
      if (m[3] !== entry) continue;
      for (const raw of m[2]!.split(',')) {
        const s = raw.trim();
        if (!s) continue;
        const type = Boolean(m[1]) || s.startsWith('type ');
        out.push({ name: s.replace(/^type\s+/, '').split(/\s+as\s+/)[0]!, type, file });
      }
    }
  }
  return out;
}

/** Type names a source entry exports (`export type { A, B } from`, `export interface A`, `export type A =`). */
function exportedTypes(source: string): Set<string> {
  const text = readFileSync(join(ROOT, source), 'utf8');
  const names = new Set<string>();
  for (const m of text.matchAll(/^export type \{([^}]*)\}/gm))
    for (const n of m[1]!.split(','))
      if (n.trim())
        names.add(
          n
            .trim()
            .split(/\s+as\s+/)
            .pop()!,
        );
  for (const m of text.matchAll(/^export (?:interface|type|class) (\w+)/gm)) names.add(m[1]!);
  for (const m of text.matchAll(/^export \{([^}]*)\}/gm))
    for (const n of m[1]!.split(',')) if (n.trim()) names.add(n.trim().replace(/^type\s+/, ''));
  return names;
}

/** `x` of every `<object>.x` in the code of the README and docs/ (file names such as `src/agent.ts` left out). */
function documentedMembers(object: string): string[] {
  const code: string[] = [];
  for (const { text } of docs()) {
    const md = text.replace(/[\w/.-]+\.(?:ts|js|md)\b/g, '');
    code.push(...[...md.matchAll(/```(?:ts|js)\n([\s\S]*?)```/g)].map((m) => m[1]!));
    code.push(...[...md.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!));
  }
  const names = new Set<string>();
  const re = new RegExp(`\\b${object}\\.(\\w+)\\b(?!:)`, 'g');
  for (const c of code) for (const m of c.matchAll(re)) names.add(m[1]!);
  return [...names].sort();
}

/** Members of `interface <name>` in a source file (its lines indented by two spaces). */
function interfaceMembers(source: string, name: string): Set<string> {
  const text = readFileSync(join(ROOT, source), 'utf8');
  const start = text.indexOf(`export interface ${name} {`);
  assert.ok(start >= 0, `${source} declares interface ${name}`);
  const body = text.slice(start, text.indexOf('\n}\n', start));
  return new Set([...body.matchAll(/^ {2}(?:readonly )?(\w+)\??[(:<]/gm)].map((m) => m[1]!));
}

describe('public API', () => {
  const dir = tempDir('prodmon-api-');
  after(() => dir.cleanup());

  test('prodmon exports createMonitor, the errors and the archive reader at run time, nothing else', () => {
    assert.deepEqual(Object.keys(mainEntry).sort(), MAIN_RUNTIME);
  });

  test('prodmon/agent exports createAgent and the errors at run time, nothing else', () => {
    assert.deepEqual(Object.keys(agentEntry).sort(), AGENT_RUNTIME);
  });

  test('every name the docs import from prodmon or prodmon/agent is exported', () => {
    const entries = [
      { entry: 'prodmon', module: mainEntry as object, source: 'src/index.ts' },
      { entry: 'prodmon/agent', module: agentEntry as object, source: 'src/agent.ts' },
    ];
    for (const { entry, module, source } of entries) {
      const imports = documentedImports(entry);
      assert.ok(imports.length > 0, `the docs import from ${entry}`);
      const types = exportedTypes(source);
      for (const { name, type, file } of imports) {
        if (type) assert.ok(types.has(name), `${file}: type ${name} is exported by ${entry}`);
        else assert.ok(name in module, `${file}: ${name} is exported by ${entry}`);
      }
    }
  });

  test('every monitor.x of the README and docs is on the Monitor interface and on a created monitor', () => {
    const documented = documentedMembers('monitor');
    assert.ok(documented.includes('handler') && documented.includes('health'), documented.join());
    const declared = interfaceMembers('src/index.ts', 'Monitor');
    const monitor = mainEntry.createMonitor({ data_dir: dir.path }, { env: {}, fileLogs: false });
    for (const name of documented) {
      assert.ok(declared.has(name), `Monitor declares ${name}`);
      assert.ok(name in monitor, `a monitor has ${name}`);
    }
  });

  test('every agent.x of the README and docs is on a created agent', () => {
    const documented = documentedMembers('agent');
    assert.ok(documented.includes('middleware'), documented.join());
    const agent = agentEntry.createAgent({ push: { url: 'http://127.0.0.1:9', token: 'push-token' } });
    for (const name of documented) assert.ok(name in agent, `an agent has ${name}`);
  });
});
