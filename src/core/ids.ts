import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A time-sortable unique id: 10 characters of millisecond time (Crockford base32, lowercase)
 * then 16 random ones, with an optional prefix (`al_...`). Sorting ids sorts by creation time.
 */
export function newId(now: number, prefix = ''): string {
  let t = Math.max(0, Math.floor(now));
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 32];
  return prefix + time + rand;
}
