/**
 * Standard Webhooks signatures: `v1,` + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`, one per
 * secret, space-separated (so secrets can rotate). A secret is `whsec_<base64>` or raw text.
 */
import { createHmac } from 'node:crypto';

/** The HMAC key of a secret. */
export function secretKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** The `webhook-signature` header value for a message. */
export function signatureHeader(
  id: string,
  timestampSec: number,
  body: string,
  secrets: readonly string[],
): string {
  return secrets
    .map(
      (s) =>
        `v1,${createHmac('sha256', secretKey(s)).update(`${id}.${timestampSec}.${body}`).digest('base64')}`,
    )
    .join(' ');
}
