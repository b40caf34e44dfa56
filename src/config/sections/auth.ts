/** `auth`: bearer tokens for the API and the dashboard, with a role each. */
import { z } from 'zod';
import { count, duration, nonEmpty, obj } from '../zod-helpers.js';

/**
 * Roles of API tokens: `read` reads everything, `admin` also changes things, `push` may only send
 * metrics to `POST /production/ingest` (what agents and pushing monitors need, nothing more), `deploy`
 * may only record deploy markers with `POST /production/api/deployments` (what a CI/CD pipeline needs).
 */
export const ROLES = ['admin', 'read', 'push', 'deploy'] as const;
export type Role = (typeof ROLES)[number];
/** Roles of dashboard users (a person signs in to read or act, never to push). */
export const USER_ROLES = ['admin', 'read'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/**
 * Whether a token's role opens the dashboard (`admin`, `read`): a `push` or `deploy` token does one
 * thing over the API and is no key to the pages.
 */
export function isUserRole(role: Role): role is UserRole {
  return (USER_ROLES as readonly string[]).includes(role);
}

const token = obj({
  name: nonEmpty(),
  token: z.string().min(16, { error: 'must be at least 16 characters (use a long random string)' }),
  role: z.enum(ROLES).default('read'),
});

/** `scrypt$N$r$p$salt$hash` (base64), as `hashPassword` in src/http/session.ts writes it. */
const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

const user = obj({
  name: nonEmpty(),
  password_hash: z.string().regex(SCRYPT_HASH, {
    error:
      'expected an scrypt hash "scrypt$N$r$p$salt$hash" (docs/dashboard.md, "Configuration", shows how to make one)',
  }),
  role: z.enum(USER_ROLES).default('read'),
});

export const authSection = obj({
  tokens: z.array(token).default([]),
  /** Dashboard users who sign in with a name and password (stored as scrypt hashes). */
  users: z.array(user).default([]),
  /** How long a dashboard session lasts after sign-in. */
  session_ttl: duration('12h', { min: '5m', max: '90d' }),
  /** Mark the session cookie `Secure` even when the request is not seen as https (behind a TLS proxy). */
  secure_cookies: z.boolean().default(false),
  /** Key that signs session cookies (default: a random key kept in the store, shared by instances). */
  session_secret: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  /** Failed sign-ins allowed per client address and name within `login_window`. */
  login_max_failures: count(5, 1, 1000),
  login_window: duration('15m', { min: '1s', max: '1d' }),
  /** Protect `GET /metrics` with a token too. */
  metrics_require_token: z.boolean().default(false),
}).prefault({});
