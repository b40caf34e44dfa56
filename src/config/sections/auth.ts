/** `auth`: bearer tokens for the API and the dashboard, with a role each. */
import { z } from 'zod';
import { nonEmpty, obj } from '../zod-helpers.js';

export const ROLES = ['admin', 'read'] as const;
export type Role = (typeof ROLES)[number];

const token = obj({
  name: nonEmpty(),
  token: z.string().min(16, { error: 'must be at least 16 characters (use a long random string)' }),
  role: z.enum(ROLES).default('read'),
});

export const authSection = obj({
  tokens: z.array(token).default([]),
  /** Protect `GET /metrics` with a token too. */
  metrics_require_token: z.boolean().default(false),
}).prefault({});
