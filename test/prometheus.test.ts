/**
 * prodmon as Prometheus sees it, with Debian's real binaries against a live monitor under traffic:
 * `promtool check metrics` over its `/metrics` (every family with samples) reports nothing, `promtool
 * check rules` accepts grafana/prodmon-rules.yml, and a real Prometheus scraping it every second (its
 * own temp dir and port) returns data for every query of every panel of grafana/prodmon-dashboard.json
 * and for every rule's expression without its threshold, and evaluates the rules without error.
 * Skipped, saying why, only when Prometheus is not installed (CI installs it: `apt-get install -y
 * prometheus`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { dashboardQueries, type GrafanaDashboard, resolveQuery } from './support/grafana.js';
import { startTrafficMonitor, type TrafficMonitor } from './support/prom-monitor.js';
import {
  type Daemon,
  findPrometheus,
  findPromtool,
  firstScrape,
  instantQuery,
  startScrapingPrometheus,
} from './support/prometheus.js';

const RULES = fileURLToPath(new URL('../grafana/prodmon-rules.yml', import.meta.url));
const DASHBOARD = fileURLToPath(new URL('../grafana/prodmon-dashboard.json', import.meta.url));
const promtool = findPromtool();
const prometheus = findPrometheus();
const install = '(Debian: apt-get install -y prometheus)';

/** Runs promtool; its exit status and everything it printed. */
function runPromtool(args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync(promtool!, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** The alerting rules of the rules file: name and expression. */
function ruleExpressions(): { alert: string; expr: string }[] {
  const doc = parseYaml(readFileSync(RULES, 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ alert: r.alert, expr: r.expr })));
}

let t: TrafficMonitor | undefined;
before(async () => {
  if (promtool || prometheus) t = await startTrafficMonitor();
});
after(() => t?.close());

describe('promtool', { skip: promtool ? false : `promtool is not installed ${install}` }, () => {
  test('check metrics over a live /metrics prints nothing and exits 0', async () => {
    await t!.traffic(8);
    const res = await fetch(`${t!.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^prodmon_http_requests_total\{/m, 'the scrape has the traffic');
    assert.match(text, /^nodejs_gc_duration_seconds_count\{/m, 'and the default metrics');
    assert.deepEqual(runPromtool(['check', 'metrics'], text), { status: 0, output: '' });
  });

  test('check metrics reports what it finds wrong (so that silence means something)', () => {
    const bad = '# HELP x_total A gauge named like a counter.\n# TYPE x_total gauge\nx_total 1\n';
    const r = runPromtool(['check', 'metrics'], bad);
    assert.notEqual(r.status, 0);
    assert.match(r.output, /x_total/);
  });

  test('check rules accepts grafana/prodmon-rules.yml', () => {
    const r = runPromtool(['check', 'rules', RULES]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS: 12 rules found/);
  });
});

describe('a real Prometheus scraping prodmon', {
  skip: prometheus ? false : `prometheus is not installed ${install}`,
}, () => {
  let prom: Daemon | undefined;
  let sending = true;
  let load: Promise<void> = Promise.resolve();
  before(async () => {
    prom = await startScrapingPrometheus(prometheus!, [t!.target], '1s', {
      rules: readFileSync(RULES, 'utf8'),
    });
    // traffic all along, a request and a query every 50 ms (one request in four fails)
    load = (async () => {
      while (sending) {
        await t!.traffic(1);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  });
  after(async () => {
    sending = false;
    await load;
    await prom?.stop();
  });

  test('every dashboard query and every rule expression returns data; the rules evaluate cleanly', async () => {
    await firstScrape(prom!, 30_000);
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as GrafanaDashboard;
    const queries = [
      ...dashboardQueries(dashboard).map((q) => ({
        what: `panel ${q.panel}`,
        query: resolveQuery(q.expr, '1m'),
      })),
      // a rule's expression without its threshold comparison
      ...ruleExpressions().map((r) => ({
        what: `rule ${r.alert}`,
        query: r.expr.replace(/\s*>\s*[0-9.]+\s*$/, ''),
      })),
    ];
    assert.ok(queries.length >= 40, `${queries.length} queries`);
    for (const q of queries) {
      assert.doesNotMatch(q.query, /\$/, `${q.what}: no variable left`);
      if (q.what.startsWith('rule')) assert.doesNotMatch(q.query, /[<>]/, `${q.what}: no threshold left`);
    }

    // wait (with a deadline) until every query has data: rates need two scrapes in their window
    const deadline = performance.now() + 60_000;
    let empty = queries;
    for (;;) {
      const results = await Promise.all(
        empty.map(async (q) => ({ q, n: (await instantQuery(prom!, q.query)).length })),
      );
      empty = results.filter((r) => r.n === 0).map((r) => r.q);
      if (empty.length === 0) break;
      if (performance.now() > deadline) {
        assert.fail(`no data within 60 s from:\n${empty.map((q) => `  ${q.what}: ${q.query}`).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }

    // Prometheus loaded the rules file and evaluates every rule without an error
    const rulesDeadline = performance.now() + 30_000;
    for (;;) {
      const body = (await (await fetch(`${prom!.url}/api/v1/rules`)).json()) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
      };
      const rules = body.data.groups.flatMap((g) => g.rules);
      assert.equal(rules.length, 12);
      const bad = rules.filter((r) => r.health !== 'ok');
      if (bad.length === 0) break;
      if (performance.now() > rulesDeadline) {
        assert.fail(
          `rules not evaluated cleanly: ${bad.map((r) => `${r.name} ${r.health} ${r.lastError ?? ''}`).join('; ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  });
});
