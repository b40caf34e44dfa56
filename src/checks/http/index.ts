/**
 * `http`: one request (method, headers, optional body) on a fresh connection; expected status, optional
 * body match (substring or regex), latency against `latency_threshold` (default `api_response_time`
 * warning), and for https the peer certificate's days left (`degraded` under `cert_days_warning`).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { maskUrl } from '../../config/mask.js';
import type { HealthStatus } from '../../domain/health.js';
import type { CheckDefinition, CheckOutcome } from '../types.js';
import { monotonic, round1, targetError } from '../util.js';
import { shape } from './options.js';

type Options = {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  expected_status?: number | number[];
  body_contains?: string;
  body_regex?: string;
  latency_threshold?: number;
  cert_days_warning: number;
  insecure: boolean;
  ca?: string;
  max_body: number;
};

/** The URL as health output shows it: credentials and query values masked, as `prodmon config check` does. */
export function displayUrl(url: string): string {
  return maskUrl(url);
}

interface Response {
  status: number;
  body: Buffer;
  cert: { validTo: string; daysLeft: number; subject: string | null; issuer: string | null } | null;
}

const DAY = 86_400_000;

function request(
  url: URL,
  o: Options,
  ca: Buffer | undefined,
  signal: AbortSignal,
  now: number,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: o.method,
      headers: o.headers,
      agent: false,
      signal,
      ...(url.protocol === 'https:' ? { ca, rejectUnauthorized: !o.insecure } : {}),
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let cert: Response['cert'] = null;
      const sock = res.socket as TLSSocket | null;
      if (sock && typeof sock.getPeerCertificate === 'function') {
        const c = sock.getPeerCertificate();
        if (c?.valid_to) {
          const validTo = new Date(c.valid_to);
          cert = {
            validTo: validTo.toISOString(),
            daysLeft: Math.floor((validTo.getTime() - now) / DAY),
            subject: [c.subject?.CN ?? null].flat()[0] ?? null,
            issuer: [c.issuer?.CN ?? c.issuer?.O ?? null].flat()[0] ?? null,
          };
        }
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        if (size < o.max_body) {
          chunks.push(d);
          size += d.length;
        }
        if (size >= o.max_body) res.destroy();
      });
      const done = () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, o.max_body), cert });
      res.on('end', done);
      res.on('close', done);
      res.on('error', reject);
    });
    req.end(o.body);
  });
}

/** The `http` kind. */
export const httpCheck: CheckDefinition<Options, Options & { latency_threshold: number }> = {
  kind: 'http',
  shape,
  resolve: (spec, d) => ({ ...spec, latency_threshold: spec.latency_threshold ?? d.httpLatency }),
  create(spec, ctx) {
    const threshold = spec.latency_threshold;
    const url = new URL(spec.url);
    const shown = displayUrl(spec.url);
    const expected = spec.expected_status === undefined ? null : [spec.expected_status].flat();
    const re = spec.body_regex !== undefined ? new RegExp(spec.body_regex) : null;
    let ca: Buffer | undefined;
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run(signal): Promise<CheckOutcome> {
        const details: Record<string, unknown> = { url: shown, method: spec.method };
        if (spec.ca && !ca) ca = readFileSync(spec.ca);
        const t0 = monotonic();
        let res: Response;
        try {
          res = await request(url, spec, ca, signal, ctx.clock.now());
        } catch (err) {
          if (signal.aborted) throw err;
          return { status: 'unhealthy', details, error: `${spec.method} ${shown}: ${targetError(err)}` };
        }
        const latency = monotonic() - t0;
        details.statusCode = res.status;
        details.latencyMs = round1(latency);
        details.latencyThresholdMs = threshold;
        if (res.cert) details.certificate = res.cert;
        const problems: { status: HealthStatus; text: string }[] = [];
        const statusOk = expected ? expected.includes(res.status) : res.status >= 200 && res.status < 300;
        if (!statusOk) {
          problems.push({
            status: 'unhealthy',
            text: `expected status ${expected ? expected.join(' or ') : '2xx'}, got ${res.status}`,
          });
        }
        if (spec.body_contains !== undefined || re) {
          const text = res.body.toString('utf8');
          const before = problems.length;
          if (spec.body_contains !== undefined && !text.includes(spec.body_contains)) {
            problems.push({
              status: 'unhealthy',
              text: `body does not contain ${JSON.stringify(spec.body_contains)}`,
            });
          }
          if (re && !re.test(text))
            problems.push({ status: 'unhealthy', text: `body does not match /${spec.body_regex}/` });
          details.bodyMatched = problems.length === before;
        }
        if (res.cert && res.cert.daysLeft < spec.cert_days_warning) {
          problems.push({
            status: 'degraded',
            text: `TLS certificate expires in ${res.cert.daysLeft} days (${res.cert.validTo.slice(0, 10)}; warning under ${spec.cert_days_warning})`,
          });
        }
        if (latency > threshold)
          problems.push({
            status: 'degraded',
            text: `slow: ${round1(latency)} ms (threshold ${threshold} ms)`,
          });
        const status = problems.some((p) => p.status === 'unhealthy')
          ? 'unhealthy'
          : problems.length
            ? 'degraded'
            : 'healthy';
        return { status, details, error: problems.length ? problems.map((p) => p.text).join('; ') : null };
      },
    };
  },
};
