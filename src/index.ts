/** prodmon's library entry: `import { createMonitor } from 'prodmon'`. */
import { App, type AppOptions } from './app.js';
import { type LoadOptions, loadConfig, parseConfig, type ResolvedConfig } from './config/load.js';
import type { ConfigInput } from './config/schema.js';

export type { AppOptions } from './app.js';
export { App } from './app.js';
export { ConfigError, loadConfig, parseConfig, type ResolvedConfig } from './config/load.js';
export type { Config, ConfigInput } from './config/schema.js';
export { type Clock, FakeClock, systemClock } from './core/clock.js';
export { ProdmonError } from './core/errors.js';
export { METRIC, type MetricName } from './core/metric-names.js';
export type { Aggregation } from './core/rollup.js';
export type * from './core/types.js';
export type { WrapOptions } from './instrument/node-http.js';
export type { QueryLabels } from './instrument/query-timer.js';
export type { SqlOperation } from './instrument/sql.js';
export { ABORTED, type RouteSource, templateFromPath, UNMATCHED } from './instrument/track.js';
export { listArchives, readArchive } from './jobs/archive/reader.js';
export { MetricsEngine, type WindowQuery } from './metrics/engine.js';
export type { CompactionResult, RetentionResult } from './metrics/maintenance.js';
export type { HealthProviders } from './metrics/prometheus.js';
export type { WindowValue } from './metrics/read.js';
export { OVERFLOW } from './metrics/recorder.js';
export type { GroupFigures, PerformanceSummary, ResourceFigures, SystemFigures } from './metrics/summary.js';
export type { WireBatch, WireRow } from './metrics/wire.js';
export { VERSION } from './version.js';

/** The embedded monitor. */
export type Monitor = App;

/**
 * Creates a monitor for embedding in an app. `config` is the same shape as `prodmon.yaml` (parsed and
 * validated now; a bad config throws a ConfigError naming each field); with no argument, `prodmon.yaml`
 * (or `$PRODMON_CONFIG`) is read if present.
 */
export function createMonitor(
  config?: ConfigInput | ResolvedConfig,
  opts: AppOptions & Pick<LoadOptions, 'dataDir' | 'cwd' | 'env'> = {},
): Monitor {
  const resolved =
    config && 'secrets' in config && 'paths' in config
      ? (config as ResolvedConfig)
      : config
        ? parseConfig(config, { ...opts, label: 'createMonitor config' })
        : loadConfig(opts);
  return new App(resolved, opts);
}
