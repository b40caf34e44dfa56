/**
 * The names of the metrics prodmon records, shared by the recorder, the built-in alert rules, the
 * dashboard and the Prometheus export. Durations are in ms, sizes in bytes, ratios in percent.
 */
export const METRIC = {
  /** Request duration; labels route (template), method, status_class; `errors` counts failed requests. */
  httpRequest: 'http_request_duration_ms',
  /** Query duration; labels db, operation (select|insert|update|delete|other). */
  dbQuery: 'db_query_duration_ms',
  /** CPU utilisation in %; label scope = host | process. */
  cpu: 'system_cpu_percent',
  /** System memory used in % (cgroup-aware when a limit is set). */
  memory: 'system_memory_percent',
  processRss: 'process_rss_bytes',
  heapUsed: 'process_heap_used_bytes',
  /** Disk used in %; label path. */
  disk: 'disk_used_percent',
  diskFree: 'disk_free_bytes',
  eventLoopLag: 'event_loop_lag_ms',
  eventLoopUtilization: 'event_loop_utilization_percent',
  gcPause: 'gc_pause_ms',
  /** Health check latency; label check. */
  checkDuration: 'check_duration_ms',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
