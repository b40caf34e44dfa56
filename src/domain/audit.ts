/** The audit trail: who did what by hand (resolve, silence, test notification...). */

/** One audited action. */
export interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
}
