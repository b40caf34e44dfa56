/**
 * Standard Webhooks signatures: `v1,` + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`, one per
 * secret, space-separated (so secrets can rotate). A secret is `whsec_` + base64 of 24 to 64 random
 * bytes, and the HMAC key is those decoded bytes, as the specification says: receivers using the
 * official libraries (`new Webhook(secret)`) verify with the secret as it is written in the config.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** The prefix of a Standard Webhooks signing secret. */
export const SECRET_PREFIX = 'whsec_';
/** Bounds of a signing key in bytes (the specification's). */
export const MIN_KEY_BYTES = 24;
export const MAX_KEY_BYTES = 64;
/** Bytes of a secret made by `prodmon notify secret`. */
const NEW_KEY_BYTES = 32;

const HOW_TO = 'make one with `prodmon notify secret` (or `echo whsec_$(openssl rand -base64 32)`)';

/** What is wrong with a signing secret, or null when it is a valid `whsec_<base64>` secret. */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(SECRET_PREFIX))
    return `a webhook signing secret must start with "${SECRET_PREFIX}" followed by base64 (Standard Webhooks); ${HOW_TO}`;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0 || b64.length === 0)
    return `the part after "${SECRET_PREFIX}" must be standard base64 (A-Z, a-z, 0-9, +, /, padded with =); ${HOW_TO}`;
  const bytes = Buffer.from(b64, 'base64').length;
  if (bytes < MIN_KEY_BYTES || bytes > MAX_KEY_BYTES)
    return `the key must be ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes, this one decodes to ${bytes}; ${HOW_TO}`;
  return null;
}

/** A new random signing secret, `whsec_` + base64 of 32 random bytes. */
export function newSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(NEW_KEY_BYTES).toString('base64')}`;
}

/** The HMAC key of a secret: the bytes its base64 part decodes to. */
export function secretKey(secret: string): Buffer {
  const problem = secretProblem(secret);
  if (problem) throw new Error(problem);
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** The `webhook-signature` header value for a message, one signature per key (see `secretKey`). */
export function signatureHeader(
  id: string,
  timestampSec: number,
  body: string,
  keys: readonly Buffer[],
): string {
  return keys
    .map((k) => `v1,${createHmac('sha256', k).update(`${id}.${timestampSec}.${body}`).digest('base64')}`)
    .join(' ');
}
