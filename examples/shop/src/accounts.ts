/** Customer sign-in: password check, opaque session tokens (only their hash is stored). */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './db/types.js';
import { DUMMY_HASH_PROMISE, verifyPassword } from './passwords.js';

/** A signed-in customer. */
export interface User {
  id: number;
  email: string;
  name: string;
}

/** How long a session lasts. */
export const SESSION_TTL_MS = 24 * 60 * 60 * 1000;

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Why a sign-in failed (never told to the client, which only hears "invalid credentials"). */
export type LoginFailure = 'unknown_email' | 'wrong_password';

/** Checks credentials; on success opens a session and returns its token. */
export async function login(
  db: Queryable,
  email: string,
  password: string,
  now: number,
): Promise<{ ok: true; user: User; token: string; expiresAt: number } | { ok: false; reason: LoginFailure }> {
  const row = await db.get<{ id: number | string; email: string; name: string; password_hash: string }>(
    'SELECT id, email, name, password_hash FROM users WHERE email = ?',
    [email.trim().toLowerCase()],
  );
  // Unknown emails cost the same scrypt run as known ones: timing does not reveal accounts.
  const matches = await verifyPassword(password, row?.password_hash ?? (await DUMMY_HASH_PROMISE()));
  if (!row) return { ok: false, reason: 'unknown_email' };
  if (!matches) return { ok: false, reason: 'wrong_password' };
  const token = randomBytes(32).toString('base64url');
  const expiresAt = now + SESSION_TTL_MS;
  await db.run('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)', [
    tokenHash(token),
    row.id,
    expiresAt,
  ]);
  return { ok: true, user: { id: Number(row.id), email: row.email, name: row.name }, token, expiresAt };
}

/** The customer of a session token, or null if unknown or expired. */
export async function userOfSession(db: Queryable, token: string, now: number): Promise<User | null> {
  const row = await db.get<{ id: number | string; email: string; name: string }>(
    `SELECT u.id, u.email, u.name FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = ? AND s.expires_at > ?`,
    [tokenHash(token), now],
  );
  return row ? { id: Number(row.id), email: row.email, name: row.name } : null;
}

/** Ends a session. */
export async function logout(db: Queryable, token: string): Promise<void> {
  await db.run('DELETE FROM sessions WHERE token_hash = ?', [tokenHash(token)]);
}

/** `a***@shop.example`: enough to correlate, not enough to leak an address into logs. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
