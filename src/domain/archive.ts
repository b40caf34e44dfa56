/** What retention archives before deleting it. */

/** A kind of record that retention archives before deleting it. */
export type ArchiveDataset =
  | 'check_results'
  | 'alerts'
  | 'outbox'
  | 'job_runs'
  | 'instances'
  | 'rollups_minute'
  | 'rollups_hourly'
  | 'deployments';

/** One archived record: the stored row, JSON columns parsed, binary ones base64, children nested. */
export type ArchiveRecord = Record<string, unknown>;

/** Every dataset, in the order retention handles them. */
export const ARCHIVE_DATASETS: readonly ArchiveDataset[] = [
  'check_results',
  'alerts',
  'outbox',
  'job_runs',
  'instances',
  'rollups_minute',
  'rollups_hourly',
  'deployments',
];
