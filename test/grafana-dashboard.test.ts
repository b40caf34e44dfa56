/**
 * grafana/prodmon-dashboard.json is what scripts/grafana-dashboard.ts generates (regenerate with
 * `node --import tsx scripts/grafana-dashboard.ts`), with a Prometheus data source variable that every
 * query uses, a stable uid and the rows it documents. That its queries return data from a real
 * Prometheus scraping prodmon is checked in test/prometheus.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  buildDashboard,
  DASHBOARD_FILE,
  DASHBOARD_UID,
  dashboardJson,
} from '../scripts/grafana-dashboard.js';
import { dashboardQueries, type GrafanaDashboard } from './support/grafana.js';

test('the committed dashboard is up to date with its script', () => {
  assert.equal(
    readFileSync(DASHBOARD_FILE, 'utf8'),
    dashboardJson(),
    'grafana/prodmon-dashboard.json is stale: run node --import tsx scripts/grafana-dashboard.ts',
  );
  // the formatting keeps the SDK's model as JSON.stringify would write it
  assert.deepEqual(JSON.parse(dashboardJson()), JSON.parse(JSON.stringify(buildDashboard())));
});

test('a Prometheus data source variable, a stable uid, the documented rows, every query on ${datasource}', () => {
  const d = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as GrafanaDashboard;
  assert.equal(d.uid, DASHBOARD_UID);
  assert.equal(d.uid, 'prodmon-overview', 'the uid never changes: an import replaces the previous version');
  const ds = d.templating.list.find((v) => v.name === 'datasource');
  assert.deepEqual([ds?.type, ds?.query], ['datasource', 'prometheus']);
  assert.deepEqual(
    d.panels.filter((p) => p.type === 'row').map((p) => p.title),
    ['Overview', 'Routes', 'Database queries', 'Checks', 'Alerts', 'Notification outbox', 'Host'],
  );
  const overview = d.panels.slice(1, 4).map((p) => p.title);
  assert.deepEqual(overview, ['Request rate', 'Error ratio', 'p95 latency']);
  const queries = dashboardQueries(d);
  assert.ok(queries.length >= 25, `${queries.length} queries`);
  for (const q of queries) {
    assert.deepEqual(q.datasource, { type: 'prometheus', uid: '${datasource}' }, q.panel);
    assert.match(q.expr, /job=~"\$job", instance=~"\$instance"/, `${q.panel} filters by job and instance`);
  }
  // panels do not overlap: each row's panels fill its lines left to right
  for (const p of d.panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, p.title);
});
