/** The whole `prodmon.yaml` schema: every key optional, defaults from the specification. */
import { z } from 'zod';
import { alertingSection } from './sections/alerting.js';
import { authSection } from './sections/auth.js';
import { deploymentsSection } from './sections/deployments.js';
import { healthSection } from './sections/health.js';
import { archiveSection, jobsSection } from './sections/jobs.js';
import { logsSection } from './sections/logs.js';
import { metricsSection } from './sections/metrics.js';
import { notificationsSection } from './sections/notifications.js';
import { serverSection } from './sections/server.js';
import { storeSection } from './sections/store.js';
import { obj } from './zod-helpers.js';

export const configSchema = obj({
  /** Name of this instance (default: host name and process id). */
  instance: z.string().min(1).optional(),
  /** Directory for the SQLite file, logs, archives and the pid file (default `./.prodmon`). */
  data_dir: z.string().optional(),
  server: serverSection,
  store: storeSection,
  auth: authSection,
  health: healthSection,
  metrics: metricsSection,
  alerting: alertingSection,
  notifications: notificationsSection,
  deployments: deploymentsSection,
  logs: logsSection,
  jobs: jobsSection,
  archive: archiveSection,
});

/** The config as written (before defaults). */
export type ConfigInput = z.input<typeof configSchema>;
/** The config after validation and defaults, durations in ms, sizes in bytes. */
export type Config = z.output<typeof configSchema>;
