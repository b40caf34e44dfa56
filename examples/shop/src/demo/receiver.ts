/**
 * A local webhook receiver for the demo: accepts prodmon's Standard Webhooks POSTs on 127.0.0.1,
 * checks their signature and keeps them, so the user sees each notification as it arrives.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The parts of prodmon's webhook payload the demo prints. */
export interface WebhookBody {
  type?: string;
  data?: { summary?: string; alert?: { rule: string; severity: string; status: string; message: string } };
}

/** One notification as received. */
export interface Received {
  id: string;
  type: string;
  /** Whether the signature matched the shared secret. */
  verified: boolean;
  body: WebhookBody;
  at: number;
}

/** Checks a Standard Webhooks signature header (`v1,<base64> ...`) against `${id}.${ts}.${body}`. */
export function verifySignature(
  secret: string,
  id: string,
  timestamp: string,
  body: string,
  header: string,
): boolean {
  const key = secret.startsWith('whsec_')
    ? Buffer.from(secret.slice(6), 'base64')
    : Buffer.from(secret, 'utf8');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return header.split(' ').some((sig) => {
    const [version, value] = sig.split(',');
    if (version !== 'v1' || !value) return false;
    const got = Buffer.from(value, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

/** A running receiver. */
export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** Starts the receiver on 127.0.0.1 (free port); `onReceive` hears each notification. */
export function startReceiver(secret: string, onReceive: (r: Received) => void): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1024 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['webhook-id'] ?? '');
      const ts = String(req.headers['webhook-timestamp'] ?? '');
      const sig = String(req.headers['webhook-signature'] ?? '');
      let body: WebhookBody;
      try {
        body = JSON.parse(text);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 300;
      const r: Received = {
        id,
        type: String(body.type ?? ''),
        verified: fresh && verifySignature(secret, id, ts, text, sig),
        body,
        at: Date.now(),
      };
      // A retry carries the same id: keep one.
      if (!received.some((x) => x.id === id)) {
        received.push(r);
        onReceive(r);
      }
      res.writeHead(r.verified ? 204 : 401).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/hooks/prodmon`,
        received,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
