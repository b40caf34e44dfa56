import { postJson } from '../http.js';
import type { AlertNotification, Notification, NotifierDefinition, SendOutcome } from '../types.js';
import { slackBatchMessage, slackGroupMessage, slackMessage } from './blocks.js';
import { shape } from './options.js';

/** Options of a Slack channel. */
export interface SlackOptions {
  url: string;
}

const notOk = (status: number, body: string) =>
  body.trim() === 'ok' ? null : `Slack answered ${status} "${body.trim().slice(0, 100)}" instead of "ok"`;

const noSummary: SendOutcome = {
  ok: false,
  retryable: false,
  reason: 'slack channels do not take the daily summary',
};

export const slackNotifier: NotifierDefinition<SlackOptions> = {
  kind: 'slack',
  shape,
  create(spec, ctx) {
    const post = (message: unknown, signal: AbortSignal) =>
      postJson({
        url: spec.url,
        body: JSON.stringify(message),
        signal,
        now: () => ctx.clock.now(),
        check2xx: notOk,
      });
    return {
      kind: 'slack',
      name: spec.name,
      defaultRateLimit: { max: 1, per: 1000 },
      batchMax: 10,
      async send(n: Notification, signal: AbortSignal) {
        if (n.event === 'summary') return noSummary;
        return post(slackMessage(n), signal);
      },
      async sendBatch(ns: Notification[], signal: AbortSignal) {
        const alerts = ns.filter((n): n is AlertNotification => n.event !== 'summary');
        if (alerts.length === 0) return noSummary;
        return post(alerts.length === 1 ? slackMessage(alerts[0]!) : slackBatchMessage(alerts), signal);
      },
      sendGroup: (g, signal) => post(slackGroupMessage(g), signal),
    };
  },
};
