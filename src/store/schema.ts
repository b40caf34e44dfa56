/** Table row types as Kysely sees them (camelCase in code, snake_case in the database). */
import type { RollupRow } from '../domain/rollup.js';

export interface CheckResultTable {
  id: string;
  name: string;
  kind: string;
  status: string;
  responseTimeMs: number;
  details: string;
  error: string | null;
  critical: number;
  checkedAt: number;
}

export interface AlertTable {
  id: string;
  rule: string;
  fingerprint: string;
  type: string;
  severity: string;
  status: string;
  message: string;
  value: number | null;
  threshold: number | null;
  labels: string;
  metadata: string;
  createdAt: number;
  updatedAt: number;
  firingAt: number | null;
  resolvedAt: number | null;
  resolutionKind: string | null;
  resolutionBy: string | null;
  resolutionReason: string | null;
  /** Engine bookkeeping (notification times, reminder count...), JSON. */
  state: string;
}

export interface AlertEventTable {
  id: string;
  alertId: string;
  at: number;
  /** pending | firing | escalated | deescalated | reminder | resolved | silenced... */
  kind: string;
  status: string;
  severity: string;
  value: number | null;
  threshold: number | null;
  actor: string | null;
  detail: string;
}

export interface AuditTable {
  id: string;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  detail: string;
}

export interface OutboxTable {
  id: string;
  /** Unique per (alert, transition, channel): the guard against a second notification. */
  key: string;
  alertId: string | null;
  transition: string;
  channel: string;
  payload: string;
  /** pending | delivered | failed | dead */
  status: string;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  lastError: string | null;
  /** The notification group (rule and channel grouping), null when not grouped. */
  groupKey: string | null;
  /** The group message that carries this row once claimed (its id on every attempt). */
  batchId: string | null;
}

export interface DeliveryTable {
  id: string;
  outboxId: string;
  at: number;
  ok: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface SilenceTable {
  id: string;
  matchers: string;
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  createdAt: number;
  expiredAt: number | null;
}

export interface LeaseTable {
  name: string;
  holder: string;
  /** Increases at every change of holder: the fencing token. */
  epoch: number;
  expiresAt: number;
}

export interface JobRunTable {
  id: string;
  job: string;
  instance: string;
  startedAt: number;
  endedAt: number | null;
  outcome: string;
  detail: string;
}

export interface InstanceTable {
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  lastSeenAt: number;
}

export interface StateTable {
  key: string;
  value: string;
  updatedAt: number;
}

/** Deploy markers (src/domain/deployment.ts); `by` is `recorded_by` (BY is an SQL keyword). */
export interface DeploymentTable {
  id: string;
  version: string;
  instance: string | null;
  note: string | null;
  at: number;
  recordedBy: string;
}

/** A baseline of the deployment gate (src/domain/baseline.ts). */
export interface BaselineTable {
  name: string;
  createdAt: number;
  createdBy: string;
  windowFrom: number;
  windowUntil: number;
  instance: string | null;
  routeFilter: string | null;
  requests: number;
  errors: number;
  routes: number;
}

/** One route of a baseline (key `METHOD route`), or its overall figures (key `*`). */
export interface BaselineSeriesTable {
  baseline: string;
  key: string;
  method: string;
  route: string;
  count: number;
  errors: number;
  sum: number;
  min: number;
  max: number;
  /** The merged DDSketch of the window (protobuf). */
  sketch: Buffer | null;
  /** JSON: `[t, count, errors, p50, p95, p99]` per minute with requests. */
  minutes: string;
}

export interface MigrationTable {
  id: string;
  appliedAt: number;
}

export interface Database {
  /** A bucket's figures and its series (src/domain/rollup.ts). */
  rollups: RollupRow;
  checkResults: CheckResultTable;
  alerts: AlertTable;
  alertEvents: AlertEventTable;
  audit: AuditTable;
  outbox: OutboxTable;
  deliveries: DeliveryTable;
  silences: SilenceTable;
  leases: LeaseTable;
  jobRuns: JobRunTable;
  instances: InstanceTable;
  state: StateTable;
  deployments: DeploymentTable;
  baselines: BaselineTable;
  baselineSeries: BaselineSeriesTable;
  prodmonMigrations: MigrationTable;
}
