/**
 * Writes the config reference of docs/configuration.md from the schema (src/config/reference.ts):
 * every key at its default with its bounds, and the table of bounds of every duration, size and
 * bounded number.
 * `test/readme.test.ts` checks both against the schema, so they cannot drift.
 * Run: `node --import tsx scripts/config-reference.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { boundsTable, referenceYaml } from '../src/config/reference.js';

const docPath = new URL('../docs/configuration.md', import.meta.url);
let doc = readFileSync(docPath, 'utf8');
const yaml = referenceYaml();
const table = boundsTable();
const reference =
  /(<!-- config-reference:start -->\s*```yaml\n)[\s\S]*?(```\s*<!-- config-reference:end -->)/;
const bounds = /(<!-- config-bounds:start -->\n)[\s\S]*?(<!-- config-bounds:end -->)/;
if (!reference.test(doc)) throw new Error('docs/configuration.md has no config-reference block');
if (!bounds.test(doc)) throw new Error('docs/configuration.md has no config-bounds block');
doc = doc.replace(reference, (_m, a: string, b: string) => `${a}${yaml}${b}`);
doc = doc.replace(bounds, (_m, a: string, b: string) => `${a}${table}\n${b}`);
writeFileSync(docPath, doc);
process.stdout.write(
  `config reference: ${yaml.split('\n').length} lines, bounds: ${table.split('\n').length - 2} keys\n`,
);
