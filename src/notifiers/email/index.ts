/**
 * `email`: SMTP through nodemailer (implicit TLS or STARTTLS, optional auth), text and HTML bodies, one
 * e-mail per notification or group message; more due at once than the rate limit (default 5 a minute)
 * lets through go as one digest. Also sends the daily summary.
 */
import { hostname } from 'node:os';
import { errorMessage } from '../../core/errors.js';
import { nodemailerModule } from '../../core/lazy.js';
import { oneLine } from '../escape.js';
import { summaryEmail } from '../summary/render.js';
import type {
  AlertNotification,
  GroupNotification,
  Notification,
  NotifierDefinition,
  SendOutcome,
} from '../types.js';
import { shape } from './options.js';
import {
  alertEmail,
  digestEmail,
  type EmailContent,
  groupEmail,
  htmlDocument,
  messageIdDomain,
} from './render.js';

/** Options of an e-mail channel. */
export interface EmailOptions {
  to: string[];
  from: string;
  subject_prefix: string;
  smtp: {
    host: string;
    port?: number;
    secure: boolean;
    starttls: 'auto' | 'required' | 'off';
    auth?: { user: string; pass: string };
    reject_unauthorized: boolean;
  };
}

/** The outcome of a nodemailer error: 5xx replies and bad credentials are permanent, the rest retried. */
export function classifySmtpError(err: unknown): SendOutcome {
  const e = err as { code?: string; responseCode?: number; response?: string };
  const detail = oneLine(e.response ?? errorMessage(err)).slice(0, 200);
  const error = err instanceof Error ? err : undefined;
  if (e.code === 'EAUTH')
    return { ok: false, retryable: false, reason: `SMTP authentication failed: ${detail}`, error };
  if (e.responseCode !== undefined && e.responseCode >= 500) {
    return {
      ok: false,
      retryable: false,
      statusCode: e.responseCode,
      reason: `SMTP ${e.responseCode}: ${detail}`,
      error,
    };
  }
  const code = e.responseCode ?? e.code;
  return { ok: false, retryable: true, reason: `SMTP ${code ? `${code}: ` : ''}${detail}`, error };
}

const alertsOf = (ns: Notification[]) => ns.filter((n): n is AlertNotification => n.event !== 'summary');

export const emailNotifier: NotifierDefinition<EmailOptions> = {
  kind: 'email',
  shape,

  create(spec, ctx) {
    const timeout = ctx.attemptTimeout;
    const s = spec.smtp;
    const domain = messageIdDomain(ctx.dashboardUrl ?? undefined, hostname());
    const msgId = (local: string) => `<${local}@${domain}>`;
    const transport = nodemailerModule().createTransport({
      host: s.host,
      port: s.port ?? (s.secure ? 465 : 25),
      secure: s.secure,
      requireTLS: s.starttls === 'required',
      ignoreTLS: s.starttls === 'off',
      ...(s.auth ? { auth: { user: s.auth.user, pass: s.auth.pass } } : {}),
      tls: { rejectUnauthorized: s.reject_unauthorized },
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
    const mail = async (
      c: EmailContent,
      headers: Record<string, string>,
      messageId: string,
    ): Promise<SendOutcome> => {
      try {
        const info = await transport.sendMail({
          from: spec.from,
          to: spec.to,
          subject: c.subject,
          text: c.text,
          html: htmlDocument(c.subject, c.html),
          messageId,
          headers,
        });
        if (info.rejected.length > 0 && info.accepted.length === 0) {
          return {
            ok: false,
            retryable: false,
            reason: `SMTP rejected every recipient: ${oneLine(String(info.response))}`,
          };
        }
        return { ok: true };
      } catch (err) {
        return classifySmtpError(err);
      }
    };
    return {
      kind: 'email',
      name: spec.name,
      defaultRateLimit: { max: 5, per: 60_000 },
      batchMax: 100,
      async send(n: Notification) {
        if (n.event === 'summary') {
          return mail(
            summaryEmail(n.summary, spec.subject_prefix, n.link),
            { 'X-Prodmon-Event': 'summary' },
            msgId(n.id),
          );
        }
        const thread = msgId(`alert-${n.alert.id}`);
        const headers = { 'X-Prodmon-Alert': n.alert.id, 'X-Prodmon-Event': n.event, References: thread };
        return mail(alertEmail(n, spec.subject_prefix), headers, msgId(n.id));
      },
      async sendBatch(ns: Notification[], signal: AbortSignal) {
        const alerts = alertsOf(ns);
        if (alerts.length < ns.length || alerts.length === 1) {
          // Summaries never share a digest; a lone notification is sent as itself.
          for (const n of ns) {
            const r = await this.send(n, signal);
            if (!r.ok) return r;
          }
          return { ok: true };
        }
        const headers = { 'X-Prodmon-Event': 'digest' };
        return mail(
          digestEmail(alerts, spec.subject_prefix),
          headers,
          msgId(`digest-${alerts[0]!.id}-${alerts.length}`),
        );
      },
      async sendGroup(g: GroupNotification) {
        const headers = {
          'X-Prodmon-Event': 'group',
          'X-Prodmon-Group': oneLine(g.group.key),
          'X-Prodmon-Alerts': String(g.members.length),
        };
        return mail(groupEmail(g, spec.subject_prefix), headers, msgId(g.id));
      },
      async close() {
        transport.close();
      },
    };
  },
};
