/** The embedded prodmon's config for the demo: short intervals and windows, so things happen within a minute. */
import type { ConfigInput } from '../../../../src/index.js';

/** What the demo config is made from. */
export interface DemoConfigInput {
  /** The admin token (random per run). */
  token: string;
  /** The local webhook receiver and its signing secret. */
  webhookUrl: string;
  webhookSecret: string;
  /** The shop's URL (links in notifications). */
  publicUrl: string;
}

/** The demo's config: alerts evaluated every 5 s over 30 s windows, every notification to the webhook. */
export function demoConfig(c: DemoConfigInput): ConfigInput {
  return {
    instance: 'demo-shop',
    server: { public_url: c.publicUrl },
    auth: { tokens: [{ name: 'demo-admin', token: c.token, role: 'admin' }] },
    health: { refresh_interval: '5s', persist_interval: '30s' },
    metrics: { flush_interval: '5s', sample_interval: '5s' },
    alerting: {
      evaluation_interval: '5s',
      window: '30s',
      warning_for: '10s',
      cooldown: '2m',
      repeat_interval: '10m',
      auto_resolve_after: '5m',
    },
    notifications: {
      channels: [
        {
          name: 'demo-webhook',
          kind: 'webhook',
          url: c.webhookUrl,
          secret: c.webhookSecret,
          severities: ['low', 'medium', 'high', 'critical'],
        },
      ],
    },
    logs: { stdout: false },
  };
}
