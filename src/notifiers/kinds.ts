/**
 * The option schemas of the channel kinds, without their implementations: what the config validates
 * `notifications.channels` entries against. The registry (src/notifiers/registry.ts) lists the same kinds
 * with their implementations.
 */
import type { PluginShape } from '../config/plugin-list.js';
import { shape as alertmanager } from './alertmanager/options.js';
import { shape as email } from './email/options.js';
import { shape as pagerduty } from './pagerduty/options.js';
import { shape as slack } from './slack/options.js';
import { shape as webhook } from './webhook/options.js';

export const NOTIFIER_OPTIONS: readonly PluginShape[] = [
  { kind: 'email', shape: email },
  { kind: 'webhook', shape: webhook },
  { kind: 'slack', shape: slack },
  { kind: 'pagerduty', shape: pagerduty },
  { kind: 'alertmanager', shape: alertmanager },
];
