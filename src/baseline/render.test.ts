/** The comparison as text and as JUnit XML: one testcase per route and criterion, failures with the numbers, escaping that holds. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FakeRequest, fakeWindow, logNormal, seeded } from '../../test/support/gate-windows.js';
import { findAll, parseXml } from '../../test/support/xml.js';
import { compareWindows, DEFAULT_SETTINGS } from './compare.js';
import { escapeXml, renderCompareText, renderJunit } from './render.js';
import type { GateReport } from './service.js';

const T0 = Date.UTC(2026, 2, 1, 10, 0);
/** A route template with every character XML treats specially, and some it does not allow at all. */
const NASTY = `/a/<b>&"c"/'d'/\`e\`/\u0001/x\uD800y`;

function traffic(seed: number, slow = 1) {
  const random = seeded(seed);
  return (): FakeRequest[] => [
    ...Array.from({ length: 40 }, () => ({ method: 'GET', route: '/fast', ms: logNormal(random, 30, 0.3) })),
    ...Array.from({ length: 40 }, () => ({
      method: 'POST',
      route: NASTY,
      ms: logNormal(random, 30, 0.3) * slow,
    })),
    ...Array.from({ length: 2 }, () => ({ method: 'GET', route: '/rare', ms: 3 })),
  ];
}

async function report(slow: number): Promise<GateReport> {
  const base = await fakeWindow(T0, 20, traffic(1));
  const cur = await fakeWindow(T0 + 3_600_000, 10, traffic(2, slow));
  const r = compareWindows(base, cur, DEFAULT_SETTINGS);
  return {
    ...r,
    baseline: {
      kind: 'saved',
      name: 'before-4.2',
      from: base.from,
      until: base.until,
      instance: null,
      route: null,
      createdAt: T0,
      createdBy: 'cli:ana',
    },
    current: { from: cur.from, until: cur.until, instance: null, route: null },
    generatedAt: T0 + 4_000_000,
  };
}

describe('rendering a comparison', () => {
  test('JUnit: well-formed, one testcase per route and criterion; the regression is a failure with its numbers', async () => {
    const r = await report(1.5);
    assert.equal(r.verdict, 'regression');
    const xml = renderJunit(r);
    const doc = parseXml(xml);
    assert.equal(doc.name, 'testsuites');
    const cases = findAll(doc, 'testcase');
    const clean = NASTY.replace(/[\u0001]|\uD800/g, '');
    assert.deepEqual(
      cases.map((c) => [c.attrs.classname, c.attrs.name]),
      [
        ['overall', 'p95'],
        ['overall', 'error_rate'],
        ['GET /fast', 'p95'],
        ['GET /fast', 'error_rate'],
        ['GET /rare', 'p95'],
        ['GET /rare', 'error_rate'],
        [`POST ${clean}`, 'p95'],
        [`POST ${clean}`, 'error_rate'],
      ],
    );
    const failures = cases.filter((c) => c.children.some((x) => x.name === 'failure'));
    assert.deepEqual(
      failures.map((c) => [c.attrs.classname, c.attrs.name]),
      [
        ['overall', 'p95'],
        [`POST ${clean}`, 'p95'],
      ],
    );
    const failure = failures[1]!.children[0]!;
    assert.match(
      failure.attrs.message!,
      /^POST .*: p95 \+\d+(\.\d+)? % \([\d.]+ → [\d.]+ ms, \+[\d.]+ ms\) over the \+10 % allowed/,
    );
    assert.match(
      failure.text,
      /baseline [\d.]+ ms, current [\d.]+ ms, change \+[\d.]+ % \(\+[\d.]+ ms\), allowed \+10 %\nrequests: baseline 800, current 400/,
    );
    const skipped = cases.filter((c) => c.children.some((x) => x.name === 'skipped'));
    assert.equal(skipped.length, 2);
    assert.match(
      skipped[0]!.children[0]!.attrs.message!,
      /GET \/rare: 40 requests in the baseline, 200 needed/,
    );
    const suite = findAll(doc, 'testsuite')[0]!;
    assert.deepEqual(
      [suite.attrs.tests, suite.attrs.failures, suite.attrs.skipped, suite.attrs.timestamp],
      ['8', '2', '2', '2026-03-01T11:06:40'],
    );
    const props = findAll(suite, 'property');
    assert.deepEqual(props[0]!.attrs, { name: 'verdict', value: 'regression' });
    assert.match(
      props[1]!.attrs.value!,
      /^baseline "before-4.2": 2026-03-01 10:00Z to 2026-03-01 10:20Z \(20 min/,
    );
  });

  test('escapeXml: markup escaped, characters XML cannot hold dropped', () => {
    assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(escapeXml('a\u0000b\uFFFEc\uD800d\uD83D\uDE00'), 'abcd\uD83D\uDE00');
  });

  test('text: the table, the regressions with their evidence and the verdict line', async () => {
    const bad = renderCompareText(await report(1.5));
    assert.match(
      bad,
      /baseline "before-4.2": 2026-03-01 10:00Z to 2026-03-01 10:20Z \(20 min, all instances, all routes; saved by cli:ana\)/,
    );
    assert.match(
      bad,
      /allowed: p95 \+10 %, error rate \+0\.5 pp; floor 5 ms; at least 200 requests per window; α 0\.05 over 6 tests \(0\.00833 each\)/,
    );
    assert.match(
      bad,
      /│ p95 +│ [\d.]+ ms +│ [\d.]+ ms +│ \+[\d.]+ % \(\+[\d.]+ ms\) +│ MWU 20\/10 min p=[\d.e-]+ +│ REGRESSION/,
    );
    assert.match(bad, /regressions:\n {2}overall: p95/);
    assert.match(bad, /REGRESSION: overall, POST \/a\/<b>&"c"/);
    const ok = renderCompareText(await report(1));
    assert.match(ok, /notes:\n {2}GET \/rare: 40 requests in the baseline, 200 needed/);
    assert.match(
      ok,
      /no regression \(exit 0\); 1 route not judged on its own \(too few requests: see the notes\)\n$/,
    );
  });
});
