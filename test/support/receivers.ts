/**
 * Loopback receivers for notification tests. They record everything they get, so tests can fail on an
 * extra notification as well as on a missing one: an HTTP receiver with a programmable answer, an SMTP
 * server that parses each mail (smtp-server + mailparser), and checks of the Standard Webhooks signature
 * and of the Slack, PagerDuty Events v2 and Alertmanager payloads against their published formats.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { checkAlertmanagerAlerts, checkPagerDutyEvent, checkSlackMessage } from './notify-formats.js';
import { waitFor } from './wait.js';

/** One request an HTTP receiver got. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
  /** Wall time of arrival (performance.now()). */
  at: number;
}

/** The answer to a request: a status (with headers and body), or `hold` to never answer. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hold';

/** A running HTTP receiver. */
export interface HttpReceiver {
  url: string;
  port: number;
  requests: Received[];
  /** Sets how the next requests are answered (the request and its 0-based index). */
  answer(fn: (req: Received, index: number) => Answer | Promise<Answer>): void;
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  /** Responses currently held open. */
  held: ServerResponse[];
  close(): Promise<void>;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** Starts an HTTP receiver on 127.0.0.1 (answers 200 `ok` unless told otherwise). */
export async function startHttpReceiver(opts: { port?: number } = {}): Promise<HttpReceiver> {
  const requests: Received[] = [];
  const held: ServerResponse[] = [];
  let answer: (req: Received, i: number) => Answer | Promise<Answer> = () => ({ status: 200, body: 'ok' });
  const server: Server = createServer({ requestTimeout: 0 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json: parseJson(body),
        at: performance.now(),
      };
      const index = requests.push(r) - 1;
      const a = await answer(r, index);
      if (a === 'hold') {
        held.push(res);
        return;
      }
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    held,
    answer(fn) {
      answer = fn;
    },
    async waitFor(count, timeoutMs = 10_000) {
      await waitFor(() => requests.length >= count, {
        timeout: timeoutMs,
        what: () => `${count} request(s), got ${requests.length}`,
      });
      return requests;
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Verifies a Standard Webhooks request (written from the spec, independently of prodmon's signer):
 * the three headers are present, the timestamp is within `toleranceSec` of `nowSec`, and one of the
 * space-separated `v1,` signatures is HMAC-SHA256(`id.timestamp.body`) under one of `secrets`
 * (`whsec_<base64>`, the key being the decoded bytes). Returns null when valid, else the problem.
 */
export function verifyStandardWebhook(
  r: Received,
  secrets: string[],
  nowSec: number,
  toleranceSec = 300,
): string | null {
  const id = r.headers['webhook-id'];
  const ts = r.headers['webhook-timestamp'];
  const sig = r.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sig !== 'string') return 'missing header';
  if (!/^\d+$/.test(ts)) return 'timestamp is not integer seconds';
  if (Math.abs(Number(ts) - nowSec) > toleranceSec) return 'timestamp out of tolerance';
  const content = `${id}.${ts}.${r.body}`;
  for (const secret of secrets) {
    if (!secret.startsWith('whsec_')) throw new Error('a Standard Webhooks secret starts with whsec_');
    const key = Buffer.from(secret.slice(6), 'base64');
    const expected = createHmac('sha256', key).update(content).digest();
    for (const part of sig.split(' ')) {
      const [version, value] = part.split(',');
      if (version !== 'v1' || !value) continue;
      const got = Buffer.from(value, 'base64');
      if (got.length === expected.length && timingSafeEqual(got, expected)) return null;
    }
  }
  return 'no matching signature';
}

/** A running SMTP receiver. */
export interface SmtpReceiver {
  port: number;
  mails: ParsedMail[];
  /** SMTP envelopes (MAIL FROM / RCPT TO) of each mail. */
  envelopes: { from: string; to: string[] }[];
  waitFor(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

/** Starts an SMTP server on 127.0.0.1 that parses and keeps every mail; with `auth`, requires it; recipients matching `rejectRcpt` get 550. */
export async function startSmtpReceiver(
  opts: { port?: number; auth?: { user: string; pass: string }; rejectRcpt?: RegExp } = {},
): Promise<SmtpReceiver> {
  const mails: ParsedMail[] = [];
  const envelopes: { from: string; to: string[] }[] = [];
  const server = new SMTPServer({
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authOptional: !opts.auth,
    logger: false,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) {
        return cb(null, { user: auth.username });
      }
      return cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      if (!opts.rejectRcpt?.test(address.address)) return cb();
      return cb(Object.assign(new Error('5.1.1 no such user here'), { responseCode: 550 }));
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          const from = session.envelope.mailFrom;
          envelopes.push({
            from: from ? from.address : '',
            to: session.envelope.rcptTo.map((t) => t.address),
          });
          mails.push(mail);
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.on('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    envelopes,
    async waitFor(count, timeoutMs = 10_000) {
      await waitFor(() => mails.length >= count, {
        timeout: timeoutMs,
        what: () => `${count} mail(s), got ${mails.length}`,
      });
      return mails;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A port that was free a moment ago (for a server that starts later). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * Answers like the services at these paths would: `/slack` (200 `ok`, or 400 `invalid_blocks`),
 * `/pd` (202, or 400), `/am/api/v2/alerts` (200, or 400), each checking the payload's format; 200
 * anywhere else.
 */
export function answerLikeServices(r: Received): Answer {
  if (r.path === '/slack')
    return checkSlackMessage(r.json).length
      ? { status: 400, body: 'invalid_blocks' }
      : { status: 200, body: 'ok' };
  if (r.path === '/pd')
    return checkPagerDutyEvent(r.json).length
      ? { status: 400 }
      : { status: 202, body: '{"status":"success"}' };
  if (r.path === '/am/api/v2/alerts')
    return checkAlertmanagerAlerts(r.json).length ? { status: 400 } : { status: 200 };
  return { status: 200 };
}

export { checkAlertmanagerAlerts, checkPagerDutyEvent, checkSlackMessage };
