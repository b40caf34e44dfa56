/**
 * Leases: a named lock held by one holder until it expires, with an epoch that grows at every change
 * of holder. The epoch is the fencing token: leader-only writes check it in the same transaction.
 */

/** A held lease. */
export interface Lease {
  name: string;
  holder: string;
  epoch: number;
  expiresAt: number;
}
