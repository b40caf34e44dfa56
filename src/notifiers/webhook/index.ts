/**
 * `webhook`: a signed JSON POST per notification (or group message), following Standard Webhooks:
 * `webhook-id` (the notification id, the same on every retry), `webhook-timestamp` (seconds) and
 * `webhook-signature`.
 */
import { z } from 'zod';
import { postJson } from '../http.js';
import type {
  GroupNotification,
  Notification,
  NotifierContext,
  NotifierDefinition,
  SendOutcome,
} from '../types.js';
import { webhookGroupPayload, webhookPayload } from './payload.js';
import { secretKey, secretProblem, signatureHeader } from './signature.js';

const RESERVED = /^(content-type|webhook-id|webhook-timestamp|webhook-signature)$/i;

/** A signing secret: `whsec_` + base64 of 24 to 64 bytes; anything else is an error saying how to make one. */
const signingSecret = () =>
  z.string().superRefine((s, ctx) => {
    const problem = secretProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Options of a webhook channel. */
export interface WebhookOptions {
  url: string;
  secret?: string;
  secrets?: string[];
  headers: Record<string, string>;
}

/** Sends one notification to a webhook; exported for `notify test` and tests. */
export function webhookSender(spec: { name: string } & WebhookOptions, ctx: NotifierContext) {
  const keys = [...(spec.secret ? [spec.secret] : []), ...(spec.secrets ?? [])].map(secretKey);
  return async (n: Notification | GroupNotification, signal: AbortSignal): Promise<SendOutcome> => {
    const body = JSON.stringify(n.event === 'group' ? webhookGroupPayload(n) : webhookPayload(n));
    const timestamp = Math.floor(ctx.clock.now() / 1000);
    const headers: Record<string, string> = {
      ...spec.headers,
      'webhook-id': n.id,
      'webhook-timestamp': String(timestamp),
    };
    if (keys.length > 0) headers['webhook-signature'] = signatureHeader(n.id, timestamp, body, keys);
    return postJson({ url: spec.url, body, headers, signal, now: () => ctx.clock.now() });
  };
}

export const webhookNotifier: NotifierDefinition<WebhookOptions> = {
  kind: 'webhook',
  shape: {
    url: z.string().url(),
    /** Signing secret: `whsec_<base64>` (make one with `prodmon notify secret`). */
    secret: signingSecret().optional(),
    /** More secrets (rotation): each signs, signatures are space-separated. */
    secrets: z.array(signingSecret()).optional(),
    headers: z
      .record(z.string(), z.string())
      .refine((h) => !Object.keys(h).some((k) => RESERVED.test(k)), {
        error: 'content-type and webhook-* headers are set by prodmon',
      })
      .default({}),
  },
  create(spec, ctx) {
    const send = webhookSender(spec, ctx);
    return { kind: 'webhook', name: spec.name, send, sendGroup: send };
  },
};
