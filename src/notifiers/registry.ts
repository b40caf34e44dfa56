/** The notification channel kinds prodmon knows: one line per kind. */
import { alertmanagerNotifier } from './alertmanager/index.js';
import { emailNotifier } from './email/index.js';
import { pagerDutyNotifier } from './pagerduty/index.js';
import { slackNotifier } from './slack/index.js';
import type { NotifierDefinition } from './types.js';
import { webhookNotifier } from './webhook/index.js';

// biome-ignore lint/suspicious/noExplicitAny: each definition has its own option type
export const NOTIFIER_KINDS: readonly NotifierDefinition<any>[] = [
  emailNotifier,
  webhookNotifier,
  slackNotifier,
  pagerDutyNotifier,
  alertmanagerNotifier,
];

/** The definition of a kind, or undefined. */
export function notifierKind(kind: string): NotifierDefinition | undefined {
  return NOTIFIER_KINDS.find((d) => d.kind === kind);
}
