/** Turning zod issues into messages that say what was expected and what was found, without secrets. */
import type { z } from 'zod';

const SECRET_KEY =
  /(pass(word|wd)?|secret|token|api_?key|routing_key|authorization|cookie|credential|private)/i;

/** Whether a config key holds a secret (its value is never printed). */
export function isSecretKey(key: PropertyKey | undefined): boolean {
  return typeof key === 'string' && SECRET_KEY.test(key);
}

function describeValue(value: unknown, key: PropertyKey | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (isSecretKey(key)) return `a ${Array.isArray(value) ? 'list' : typeof value} (value hidden)`;
  if (typeof value === 'string') {
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/\s]*@/i.test(value)) return 'a URL with credentials (value hidden)';
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

/** One line for one issue (without its path). */
export function describeIssue(iss: z.core.$ZodIssue): string {
  const key = iss.path[iss.path.length - 1];
  const input = (iss as { input?: unknown }).input;
  switch (iss.code) {
    case 'invalid_type':
      if (input === undefined) return `is required (${article(iss.expected)})`;
      return `expected ${article(iss.expected)}, got ${describeValue(input, key)}`;
    case 'invalid_value':
      return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(input, key)}`;
    case 'too_small':
      if (iss.origin === 'number' && iss.message.startsWith('Too small'))
        return `must be ${iss.inclusive ? 'at least' : 'more than'} ${iss.minimum}, got ${describeValue(input, key)}`;
      if (iss.origin === 'string' && iss.message) return iss.message;
      return `${iss.message.replace(/^Too small: /, '')}`;
    case 'too_big':
      if (iss.origin === 'number' && iss.message.startsWith('Too big'))
        return `must be ${iss.inclusive ? 'at most' : 'less than'} ${iss.maximum}, got ${describeValue(input, key)}`;
      return iss.message.replace(/^Too big: /, '');
    case 'invalid_format':
      return iss.message.startsWith('Invalid') ? `expected a valid ${iss.format}` : iss.message;
    default:
      return iss.message;
  }
}
