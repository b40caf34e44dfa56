/**
 * Deploy markers: "version v went out (to instance i) at time t", recorded by CI/CD pipelines and people
 * (`prodmon deploy mark`, `POST /production/api/deployments`). Charts draw them, alerts that fire soon
 * after one name it, and comparisons read "the window before deploy v".
 */

/** One deploy marker. */
export interface Deployment {
  /** Time-sortable id, `dp_...`. */
  id: string;
  /** The version deployed, as the pipeline names it (`v1.4.2`, a commit hash...). */
  version: string;
  /** The instance deployed to; null: the whole service (every instance). */
  instance: string | null;
  /** Free text (a change summary, a link to the pipeline run). */
  note: string | null;
  /** When it was deployed, ms since the epoch. */
  at: number;
  /** Who recorded it: the token's or user's name over HTTP, `--by` or `cli:<user>` from the CLI. */
  by: string;
}

/** Which markers to list: `since` <= at < `until`, of one instance (exactly) when given; newest first. */
export interface DeploymentQuery {
  since?: number;
  until?: number;
  instance?: string;
  limit: number;
}

/** The longest version kept (characters). */
export const MAX_VERSION_LENGTH = 128;
/** The longest instance name (the pushed instance names' rule: letters, digits and `_.:@/-`). */
export const MAX_INSTANCE_LENGTH = 200;
/** The longest note (characters). */
export const MAX_NOTE_LENGTH = 1000;
/** The longest `by` (characters). */
export const MAX_BY_LENGTH = 200;
/** How far ahead of the server's clock a marker's time may be (clocks of build machines drift). */
export const MAX_DEPLOY_AHEAD_MS = 5 * 60_000;
/** Most markers one list returns. */
export const MAX_DEPLOYMENT_LIST = 1000;
