/**
 * README.md and docs/*.md hold together: every relative link names a file that exists, every
 * `#anchor` (in the same page or another) names a heading of that page by GitHub's slug rules, the
 * README stays short enough to read in a few minutes, and it links every page of docs/.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = join(ROOT, 'docs');
const PAGES = [
  'README.md',
  ...readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

/** The text of a page outside fenced code blocks (links and headings in code are not links). */
function prose(text: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) out.push(line);
  }
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading counts by its text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings, repeated ones numbered as GitHub numbers them (`-1`, `-2`). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The link targets of a page: `[text](target)` and `![alt](target)`, inline code left out. */
function links(text: string): string[] {
  const out: string[] = [];
  for (const line of prose(text)) {
    const bare = line.replace(/`[^`]*`/g, '``');
    for (const m of bare.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]!);
  }
  return out;
}

const texts = new Map(PAGES.map((p) => [p, readFileSync(join(ROOT, p), 'utf8')]));
const anchorsOf = new Map([...texts].map(([p, t]) => [p, anchors(t)]));

test('GitHub slug rules', () => {
  assert.equal(slug("The `self` check and prodmon's own store"), 'the-self-check-and-prodmons-own-store');
  assert.equal(slug('Prometheus: `GET /metrics`'), 'prometheus-get-metrics');
  assert.equal(
    slug('Pushed data at a hub: admission control, no stalls'),
    'pushed-data-at-a-hub-admission-control-no-stalls',
  );
  assert.equal(slug('Signing in, roles, security'), 'signing-in-roles-security');
  assert.equal(slug('Several instances on PostgreSQL'), 'several-instances-on-postgresql');
});

test('every relative link and anchor of README.md and docs/*.md resolves', () => {
  const broken: string[] = [];
  for (const [page, text] of texts) {
    for (const target of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path === '' ? page : normalize(relative(ROOT, join(ROOT, dirname(page), decodeURI(path))));
      if (!existsSync(join(ROOT, file))) {
        broken.push(`${page}: ${target} (no file ${file})`);
        continue;
      }
      if (anchor === undefined) continue;
      const known = anchorsOf.get(file.split('\\').join('/'));
      if (!known) {
        broken.push(`${page}: ${target} (an anchor into a file that is not a page)`);
      } else if (!known.has(anchor)) {
        broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test('README.md is at most 400 lines and links every page of docs/', () => {
  const readme = texts.get('README.md')!;
  const lines = readme.split('\n').length - (readme.endsWith('\n') ? 1 : 0);
  assert.ok(lines <= 400, `README.md has ${lines} lines`);
  const linked = new Set(
    links(readme)
      .map((t) => t.split('#')[0]!)
      .filter((t) => t.startsWith('docs/') && t.endsWith('.md')),
  );
  const pages = PAGES.filter((p) => p.startsWith('docs/'));
  assert.ok(pages.length >= 14, `docs pages: ${pages.join(', ')}`);
  assert.deepEqual(
    pages.filter((p) => !linked.has(p)),
    [],
    'docs pages the README does not link',
  );
});

test('README.md and docs/ say nothing of how the work was organised', () => {
  const words =
    /\b(this change|we found|issue #?\d+|DESIGN\.md|(eighth|ninth|tenth|previous|next|earlier|later) session|the session (before|after))\b/i;
  const found: string[] = [];
  for (const [page, text] of texts) {
    for (const line of prose(text)) if (words.test(line)) found.push(`${page}: ${line.trim().slice(0, 120)}`);
  }
  assert.deepEqual(found, []);
});
