/** The prodmon processes sharing a store. */

/** A prodmon process known to the store. */
export interface InstanceInfo {
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  lastSeenAt: number;
}
