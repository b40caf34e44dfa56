/**
 * The one HTTP send-and-classify helper every HTTP channel uses: 2xx is success, 429 and 5xx (and
 * network errors, timeouts) are worth retrying with Retry-After honoured, a redirect is a failure and
 * is not followed, 410 means the endpoint is gone for good, any other 4xx is permanent.
 */
import { scrub } from '../config/mask.js';
import { errorMessage } from '../core/errors.js';
import { VERSION } from '../version.js';
import type { SendOutcome } from './types.js';

/** How much of a response body is read (for error messages and Slack's `ok`). */
const MAX_BODY = 64 * 1024;

/** Milliseconds to wait from a Retry-After header (seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The outcome of an HTTP answer (status, headers, first bytes of the body). */
export function classifyResponse(
  status: number,
  headers: { get(name: string): string | null },
  body: string,
  now: number,
): SendOutcome {
  if (status >= 200 && status < 300) return { ok: true, statusCode: status };
  const snippet = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  const reason = `HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
  if (status >= 300 && status < 400) {
    return {
      ok: false,
      retryable: false,
      statusCode: status,
      reason: `HTTP ${status} redirect not followed: point the channel at the final URL`,
    };
  }
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'), now);
    return {
      ok: false,
      retryable: true,
      statusCode: status,
      reason,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  if (status === 410)
    return {
      ok: false,
      retryable: false,
      disable: true,
      statusCode: status,
      reason: `${reason} (endpoint gone)`,
    };
  return { ok: false, retryable: false, statusCode: status, reason };
}

/** The outcome of a fetch that threw: aborted (timeout) or a network error; always retryable. */
export function classifyError(err: unknown, signal: AbortSignal): SendOutcome {
  if (signal.aborted) {
    const why = signal.reason instanceof Error ? signal.reason.message : 'aborted';
    return { ok: false, retryable: true, reason: why, error: err instanceof Error ? err : undefined };
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? errorMessage(err);
  return {
    ok: false,
    retryable: true,
    reason: `network error: ${detail}`,
    error: err instanceof Error ? err : undefined,
  };
}

async function readBody(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY);
}

/** A request to send. */
export interface HttpRequest {
  url: string;
  body: string;
  headers?: Record<string, string>;
  signal: AbortSignal;
  now: () => number;
  /** Extra check of a 2xx answer (e.g. Slack's body `ok`): return a failure reason, or null when fine. */
  check2xx?: (status: number, body: string) => string | null;
}

/**
 * POSTs a JSON body and classifies the answer. Redirects are not followed. The URL (which may itself be
 * a secret, e.g. a Slack webhook) never appears in the reason.
 */
export async function postJson(req: HttpRequest): Promise<SendOutcome> {
  let outcome: SendOutcome;
  try {
    const res = await fetch(req.url, {
      method: 'POST',
      redirect: 'manual',
      signal: req.signal,
      headers: { 'content-type': 'application/json', 'user-agent': `prodmon/${VERSION}`, ...req.headers },
      body: req.body,
    });
    const body = await readBody(res);
    outcome = classifyResponse(res.status, res.headers, body, req.now());
    if (outcome.ok && req.check2xx) {
      const problem = req.check2xx(res.status, body);
      if (problem) outcome = { ok: false, retryable: true, statusCode: res.status, reason: problem };
    }
  } catch (err) {
    outcome = classifyError(err, req.signal);
  }
  if (!outcome.ok) outcome.reason = scrub(outcome.reason, urlSecrets(req.url));
  return outcome;
}

/** The parts of a URL that must not be shown (whole URL, path, credentials). */
function urlSecrets(url: string): string[] {
  const out = [url];
  try {
    const u = new URL(url);
    if (u.pathname.length > 4) out.push(u.pathname);
    if (u.password) out.push(u.password);
  } catch {
    // not a URL: the whole string is enough
  }
  return out;
}
