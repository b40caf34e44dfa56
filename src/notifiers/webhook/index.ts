import { postJson } from '../http.js';
import type {
  GroupNotification,
  Notification,
  NotifierContext,
  NotifierDefinition,
  SendOutcome,
} from '../types.js';
import { shape } from './options.js';
import { webhookGroupPayload, webhookPayload } from './payload.js';
import { secretKey, signatureHeader } from './signature.js';

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
  shape,

  create(spec, ctx) {
    const send = webhookSender(spec, ctx);
    return { kind: 'webhook', name: spec.name, send, sendGroup: send };
  },
};
