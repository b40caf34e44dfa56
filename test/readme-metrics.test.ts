/**
 * The metric table of docs/prometheus-grafana.md against a real monitor's `GET /metrics` after traffic
 * (requests, one of them failing, queries, a firing alert, a notification waiting for its retry, a
 * system sample, a GC pause, a push target): every family exposed is documented, every documented
 * family is exposed with the documented type and labels and has samples. The table is read from the
 * page, so the page and this test cannot drift apart.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startTrafficMonitor, type TrafficMonitor } from './support/prom-monitor.js';
import { parsePrometheusText } from './support/prom-parser.js';

const page = readFileSync(new URL('../docs/prometheus-grafana.md', import.meta.url), 'utf8');

/** A row of the table: name, type, labels. */
interface Row {
  name: string;
  type: string;
  labels: string[];
}

/** The rows of the table under "## Metrics" (name | type | unit | labels | meaning). */
function documentedFamilies(text: string): Row[] {
  const start = text.indexOf('\n## Metrics\n');
  assert.ok(start >= 0, 'docs/prometheus-grafana.md has its Metrics section');
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((l) => /^\|\s*`[a-z]/.test(l))
    .map((row) => {
      const cells = row.split('|').map((c) => c.trim());
      return {
        name: /^`([a-z_:][a-z0-9_:]*)`$/.exec(cells[1]!)?.[1] ?? `malformed: ${cells[1]}`,
        type: cells[2]!,
        labels: cells[4] ? cells[4].split(',').map((l) => l.trim()) : [],
      };
    });
}

/** Families allowed to have no sample: empty while nothing is in flight. */
const MAY_BE_EMPTY = new Set(['nodejs_active_requests']);

let t: TrafficMonitor;
before(async () => {
  t = await startTrafficMonitor();
});
after(() => t?.close());

test('every family of /metrics is in the table, with its type, labels and samples', async () => {
  const rows = documentedFamilies(page);
  assert.ok(rows.length >= 50, `rows read from the table: ${rows.map((r) => r.name).join(', ')}`);
  const res = await fetch(`${t.url}/metrics`);
  assert.equal(res.status, 200);
  const families = parsePrometheusText(await res.text());

  const documented = new Set(rows.map((r) => r.name));
  const undocumented = [...families.keys()].filter((n) => !documented.has(n));
  assert.deepEqual(undocumented, [], 'families exposed but missing from the table');
  const missing = rows.filter((r) => !families.has(r.name)).map((r) => r.name);
  assert.deepEqual(missing, [], 'documented families not exposed');

  for (const row of rows) {
    const f = families.get(row.name)!;
    assert.equal(f.type, row.type, `type of ${row.name}`);
    if (MAY_BE_EMPTY.has(row.name) && f.samples.length === 0) continue;
    assert.ok(f.samples.length > 0, `${row.name} has samples`);
    const labels = new Set(f.samples.flatMap((s) => Object.keys(s.labels)).filter((l) => l !== 'le'));
    assert.deepEqual([...labels].sort(), [...row.labels].sort(), `labels of ${row.name}`);
  }

  // the providers report the store's truth: the firing alert, the notification waiting for its retry
  const value = (name: string, labels: Record<string, string> = {}) =>
    families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      ?.value;
  assert.equal(value('prodmon_alerts_active', { severity: 'critical' }), 1);
  assert.equal(value('prodmon_alerts_active', { severity: 'low' }), 0);
  assert.equal(value('prodmon_outbox_backlog'), 1);
  // ratios are 0-1
  for (const name of ['prodmon_system_cpu_ratio', 'prodmon_system_memory_ratio', 'prodmon_disk_used_ratio'])
    for (const s of families.get(name)!.samples)
      assert.ok(s.value >= 0 && s.value <= 1, `${name} ${JSON.stringify(s.labels)} = ${s.value}`);
});
