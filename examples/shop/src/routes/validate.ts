/** Request validation with zod: a failed parse is a 400 naming each field. */
import { z } from 'zod';
import { badRequest } from '../errors.js';

/** Parses `input` or throws a 400 listing every problem as `field: message`. */
export function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  throw badRequest(problems.join('; '), { problems });
}

/** A positive integer id from a path segment. */
export const idParam = z.coerce.number({ error: 'expected a number' }).int().positive();

/** An email address, normalized to lower case. */
export const email = z
  .string()
  .trim()
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { error: 'expected an email address' })
  .transform((s) => s.toLowerCase());
