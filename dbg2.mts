import { join } from 'node:path';
import { FakeClock } from './src/core/clock.js';
import { METRIC } from './src/core/metric-names.js';
import { MINUTE_MS } from './src/core/rollup.js';
import { compact } from './src/metrics/maintenance.js';
import { Recorder } from './src/metrics/recorder.js';
import { readEntries, readRange } from './src/metrics/read.js';
import { SUMMARY_METRICS, summarize } from './src/metrics/summary.js';
import { buildCharts } from './src/dashboard/charts.js';
import { openStore } from './src/store/index.js';
const now = Date.now();
const store = await openStore({ driver: 'sqlite', path: '/tmp/pmsmoke/prof2.db' });
await store.migrate(now);
if (!(await store.rollups.oldestBucket(MINUTE_MS))) {
  for (let day = 0; day < 2; day++) {
    const rec = new Recorder({ clock: new FakeClock(now), instance: 'x', maxSeries: 1000, maxBufferedRows: 1e7 });
    const s0 = now - (2 - day) * 86400000;
    const ser = Array.from({ length: 50 }, (_, i) => rec.series(METRIC.httpRequest, { route: `/r${i}`, method: 'GET', status_class: '2xx' }));
    const cpu = rec.series(METRIC.cpu, { scope: 'host' });
    for (let t = s0; t < s0 + 86400000 && t < now; t += MINUTE_MS) { for (const s of ser) for (let k = 0; k < 4; k++) rec.observe(s, 5 + Math.random() * 100, false, t + k * 1000); for (let k = 0; k < 6; k++) rec.observe(cpu, 30, false, t + k * 1000); }
    const b = rec.collect(now + 86400000 * 3); await store.rollups.upsert(b.rows); b.commit();
  }
  await compact(store, { now: now - 86400000 });
}
await compact(store, { now }); const rec = new Recorder({ clock: new FakeClock(now), instance: 'y', maxSeries: 1000 });
for (let i = 0; i < 2; i++) {
  let t = performance.now();
  const range = readRange(now - 7 * 86400000, now);
  const entries = await readEntries({ store, recorder: rec }, SUMMARY_METRICS, range);
  const tRead = performance.now() - t; t = performance.now();
  const sum = summarize(entries, { ...range, since: now - 7 * 86400000 });
  const tSum = performance.now() - t; t = performance.now();
  const ch = buildCharts(entries, now - 7 * 86400000, now, 3600000);
  const tCh = performance.now() - t;
  console.log({ entries: entries.length, tRead, tSum, tCh });
}
await store.close();
