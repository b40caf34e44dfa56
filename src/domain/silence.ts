/** Silences: alerts matching them stay recorded but are not notified until they end. */
import type { AlertType } from './alert.js';

/** What a silence matches: every given field must match. */
export interface SilenceMatchers {
  rule?: string;
  labels?: Record<string, string>;
  type?: AlertType;
}

/** A silence. */
export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  createdAt: number;
  expiredAt: number | null;
}
