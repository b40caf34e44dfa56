/**
 * A comparison for people and for CI: the text table the CLI prints, and JUnit XML (one testcase per
 * route and criterion; a regression is a failure carrying the numbers, a route that could not be judged
 * is skipped with what is missing).
 */
import Table from 'cli-table3';
import { escapeHtml } from '../core/html.js';
import type { BaselineInfo } from '../domain/baseline.js';
import { type CheckResult, type Criterion, num, pct, pp, type UnitResult, unitLabel } from './compare.js';
import type { GateReport } from './service.js';

/** `2026-03-03 08:00Z`, `2026-03-03 08:00:12Z`. */
const iso = (t: number) =>
  new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/(:00)?\.\d+Z$/, 'Z');

const minutes = (from: number, until: number) => `${Math.round((until - from) / 60_000)} min`;

function filterText(instance: string | null, route: string | null): string {
  const parts = [
    instance ? `instance ${instance}` : 'all instances',
    route ? `routes ${route}` : 'all routes',
  ];
  return parts.join(', ');
}

/** The windows compared, one line each. */
function windowsText(r: GateReport): string[] {
  const b = r.baseline;
  const base =
    b.kind === 'saved'
      ? `baseline "${b.name}": ${iso(b.from)} to ${iso(b.until)} (${minutes(b.from, b.until)}, ${filterText(b.instance, b.route)}; saved by ${b.createdBy})`
      : `before deploy ${b.version} (${new Date(b.deployedAt).toISOString()}): ${iso(b.from)} to ${iso(b.until)} (${minutes(b.from, b.until)})`;
  const c = r.current;
  return [
    base,
    `current: ${iso(c.from)} to ${iso(c.until)} (${minutes(c.from, c.until)}, ${filterText(c.instance, c.route)})`,
  ];
}

function value(criterion: Criterion, v: number): string {
  return criterion === 'error_rate' ? `${num(v * 100)} %` : `${num(v)} ms`;
}

function change(c: CheckResult): string {
  return c.criterion === 'error_rate'
    ? pp(c.change)
    : `${pct(c.change)} (${c.delta >= 0 ? '+' : ''}${num(c.delta)} ms)`;
}

function evidence(c: CheckResult): string {
  if (c.test === 'bootstrap') return `bootstrap ratio ${num(c.ratioLow!)}..${num(c.ratioHigh!)}`;
  const name =
    c.test === 'mann-whitney'
      ? `MWU ${c.minutes![0]}/${c.minutes![1]} min`
      : c.test === 'fisher'
        ? 'Fisher'
        : 'z test';
  return `${name} p=${num(c.p!)}`;
}

function verdictText(c: CheckResult): string {
  if (c.verdict === 'regression') return 'REGRESSION';
  if (!(c.change > c.threshold)) return 'ok';
  return c.reason.includes('floor') ? 'ok (floor)' : 'ok (not significant)';
}

/** The table and the summary lines of a comparison. */
export function renderCompareText(r: GateReport): string {
  const out = windowsText(r);
  const s = r.settings;
  const limits = [
    s.maxP95 !== null ? `p95 ${pct(s.maxP95)}` : null,
    s.maxP99 !== null ? `p99 ${pct(s.maxP99)}` : null,
    s.maxErrorRate !== null ? `error rate ${pp(s.maxErrorRate)}` : null,
  ].filter(Boolean);
  out.push(
    `allowed: ${limits.join(', ')}; floor ${num(s.minDeltaMs)} ms; at least ${s.minRequests} requests per window; α ${num(s.alpha)} over ${s.tests} tests (${num(s.level)} each)`,
  );
  const t = new Table({
    head: ['route', 'check', 'baseline', 'current', 'change', 'evidence', 'verdict'],
    style: { head: [], border: [], compact: true },
  });
  for (const u of r.units) {
    if (u.checks.length === 0) {
      t.push([
        unitLabel(u.key),
        '-',
        `${u.baseline.requests} req`,
        `${u.current.requests} req`,
        '',
        '',
        u.verdict,
      ]);
      continue;
    }
    for (const [i, c] of u.checks.entries()) {
      t.push([
        i === 0 ? unitLabel(u.key) : '',
        c.criterion,
        value(c.criterion, c.baseline),
        value(c.criterion, c.current),
        change(c),
        evidence(c),
        verdictText(c),
      ]);
    }
  }
  out.push(t.toString());
  if (r.regressions.length > 0) out.push('regressions:', ...r.regressions.map((l) => `  ${l}`));
  if (r.missing.length > 0) out.push('missing:', ...r.missing.map((l) => `  ${l}`));
  if (r.notes.length > 0) out.push('notes:', ...r.notes.map((l) => `  ${l}`));
  const routes = new Set(r.units.filter((u) => u.verdict === 'regression').map((u) => unitLabel(u.key)));
  const notJudged = r.units.filter((u) => u.verdict === 'not-judged').length;
  out.push(
    r.verdict === 'regression'
      ? `REGRESSION: ${[...routes].join(', ')} (exit 1)`
      : r.verdict === 'inconclusive'
        ? `INCONCLUSIVE: too little data (exit 3)`
        : `no regression (exit 0)${notJudged > 0 ? `; ${notJudged} ${notJudged === 1 ? 'route' : 'routes'} not judged on ${notJudged === 1 ? 'its' : 'their'} own (too few requests: see the notes)` : ''}`,
  );
  return `${out.join('\n')}\n`;
}

/** `prodmon baseline list` as a table. */
export function renderBaselineList(list: readonly BaselineInfo[]): string {
  if (list.length === 0) return 'no baselines (prodmon baseline save <name> makes one)\n';
  const t = new Table({
    head: ['name', 'window', 'length', 'filter', 'requests', 'routes', 'saved', 'by'],
    style: { head: [], border: [], compact: true },
  });
  for (const b of list)
    t.push([
      b.name,
      `${iso(b.from)} to ${iso(b.until)}`,
      minutes(b.from, b.until),
      filterText(b.instance, b.route),
      String(b.requests),
      String(b.routes),
      iso(b.createdAt),
      b.createdBy,
    ]);
  return `${t.toString()}\n`;
}

/** Text of XML content and attribute values: markup escaped, and what XML 1.0 cannot hold left out. */
export function escapeXml(text: string): string {
  // escapeHtml's entities (&amp; &lt; &gt; &quot; &#39; &#96;) are XML's too, and it drops the C0
  // controls XML 1.0 forbids; lone surrogates and U+FFFE/U+FFFF are not XML characters either.
  return escapeHtml(text).replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|[\uFFFE\uFFFF]/g,
    '',
  );
}

const attr = (name: string, v: string | number) => ` ${name}="${escapeXml(String(v))}"`;

/** The JUnit testcases of a unit: one per criterion checked (or that would have been). */
function testcases(u: UnitResult, criteria: readonly Criterion[]): string[] {
  const classname = attr('classname', unitLabel(u.key));
  if (u.checks.length === 0) {
    const why = u.missing ?? 'no data';
    return criteria.map(
      (c) =>
        `    <testcase${classname}${attr('name', c)} time="0">\n      <skipped${attr('message', why)}/>\n    </testcase>`,
    );
  }
  return u.checks.map((c) => {
    const head = `    <testcase${classname}${attr('name', c.criterion)} time="0">`;
    if (c.verdict !== 'regression')
      return `${head}\n      <system-out>${escapeXml(c.reason)}</system-out>\n    </testcase>`;
    const detail = [
      c.reason,
      `baseline ${value(c.criterion, c.baseline)}, current ${value(c.criterion, c.current)}, change ${change(c)}, allowed ${c.criterion === 'error_rate' ? pp(c.threshold) : pct(c.threshold)}`,
      `requests: baseline ${u.baseline.requests}, current ${u.current.requests}`,
    ].join('\n');
    return `${head}\n      <failure${attr('type', 'regression')}${attr('message', `${unitLabel(u.key)}: ${c.reason}`)}>${escapeXml(detail)}</failure>\n    </testcase>`;
  });
}

/**
 * JUnit XML of a comparison, written here with careful escaping ({@link escapeXml}) because no XML
 * library is a dependency of prodmon and the format needs four elements.
 */
export function renderJunit(r: GateReport): string {
  const s = r.settings;
  const criteria: Criterion[] = [
    ...(s.maxP95 !== null ? (['p95'] as const) : []),
    ...(s.maxP99 !== null ? (['p99'] as const) : []),
    ...(s.maxErrorRate !== null ? (['error_rate'] as const) : []),
  ];
  const cases = r.units.flatMap((u) => testcases(u, criteria));
  const failures = cases.filter((c) => c.includes('<failure')).length;
  const skipped = cases.filter((c) => c.includes('<skipped')).length;
  const name =
    r.baseline.kind === 'saved' ? `baseline ${r.baseline.name}` : `before deploy ${r.baseline.version}`;
  const stamp = new Date(r.generatedAt).toISOString().replace(/\.\d+Z$/, '');
  const suite = `  <testsuite${attr('name', `prodmon deployment gate: ${name}`)}${attr('tests', cases.length)}${attr('failures', failures)}${attr('errors', 0)}${attr('skipped', skipped)}${attr('timestamp', stamp)} time="0">`;
  const props = [
    `    <properties>`,
    `      <property${attr('name', 'verdict')}${attr('value', r.verdict)}/>`,
    ...windowsText(r).map(
      (l, i) => `      <property${attr('name', i === 0 ? 'baseline' : 'current')}${attr('value', l)}/>`,
    ),
    ...r.missing.map((m) => `      <property${attr('name', 'missing')}${attr('value', m)}/>`),
    `    </properties>`,
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attr('name', 'prodmon deployment gate')}${attr('tests', cases.length)}${attr('failures', failures)}${attr('errors', 0)}${attr('skipped', skipped)}>`,
    suite,
    ...props,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
