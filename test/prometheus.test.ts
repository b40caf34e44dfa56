/**
 * prodmon as Prometheus sees it, with Debian's real binaries: `promtool check metrics` over a live
 * monitor's `/metrics` after traffic (every family with samples) reports nothing, and `promtool check
 * rules` accepts grafana/prodmon-rules.yml. Skipped, saying why, only when Prometheus is not installed
 * (CI installs it: `apt-get install -y prometheus`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTrafficMonitor, type TrafficMonitor } from './support/prom-monitor.js';
import { findPromtool } from './support/prometheus.js';

const RULES = fileURLToPath(new URL('../grafana/prodmon-rules.yml', import.meta.url));
const promtool = findPromtool();
const notInstalled = 'promtool is not installed (Debian: apt-get install -y prometheus)';

/** Runs promtool; its exit status and everything it printed. */
function runPromtool(args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync(promtool!, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe('promtool', { skip: promtool ? false : notInstalled }, () => {
  let t: TrafficMonitor;
  before(async () => {
    t = await startTrafficMonitor();
  });
  after(() => t?.close());

  test('check metrics over a live /metrics prints nothing and exits 0', async () => {
    await t.traffic(8);
    const res = await fetch(`${t.url}/metrics`);
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
