/** Reading recorded request series back in instrumentation tests. */

import type { MetricsEngine } from '../../src/metrics/engine.js';
import { METRIC } from '../../src/metrics/names.js';

/** One recorded request series: its labels, count and errors. */
export interface SeenSeries {
  route: string;
  method: string;
  status_class: string;
  count: number;
  errors: number;
}

/** Every request series recorded so far, sorted by route then status class. */
export function requestSeries(engine: MetricsEngine): SeenSeries[] {
  return [...engine.recorder.allSeries(METRIC.httpRequest)]
    .map((s) => ({
      route: s.labels.route!,
      method: s.labels.method!,
      status_class: s.labels.status_class!,
      count: s.totalCount,
      errors: s.totalErrors,
    }))
    .sort((a, b) => a.route.localeCompare(b.route) || a.status_class.localeCompare(b.status_class));
}

/** Total requests recorded. */
export function requestCount(engine: MetricsEngine): number {
  return requestSeries(engine).reduce((n, s) => n + s.count, 0);
}

/** The count and errors of one (route, status class), or undefined. */
export function seriesOf(engine: MetricsEngine, route: string, statusClass?: string): SeenSeries | undefined {
  return requestSeries(engine).find(
    (s) => s.route === route && (!statusClass || s.status_class === statusClass),
  );
}
