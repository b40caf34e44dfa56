/**
 * Writes the README's config reference from the schema (src/config/reference.ts): every key at its
 * default with its bounds, and the table of bounds of every duration, size and bounded number.
 * `test/readme.test.ts` checks both against the schema, so they cannot drift.
 * Run: `node --import tsx scripts/config-reference.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { boundsTable, referenceYaml } from '../src/config/reference.js';

const readmePath = new URL('../README.md', import.meta.url);
let readme = readFileSync(readmePath, 'utf8');
const yaml = referenceYaml();
const table = boundsTable();
const reference =
  /(<!-- config-reference:start -->\s*```yaml\n)[\s\S]*?(```\s*<!-- config-reference:end -->)/;
const bounds = /(<!-- config-bounds:start -->\n)[\s\S]*?(<!-- config-bounds:end -->)/;
if (!reference.test(readme)) throw new Error('README.md has no config-reference block');
if (!bounds.test(readme)) throw new Error('README.md has no config-bounds block');
readme = readme.replace(reference, (_m, a: string, b: string) => `${a}${yaml}${b}`);
readme = readme.replace(bounds, (_m, a: string, b: string) => `${a}${table}\n${b}`);
writeFileSync(readmePath, readme);
process.stdout.write(
  `config reference: ${yaml.split('\n').length} lines, bounds: ${table.split('\n').length - 2} keys\n`,
);
