import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HttpReceiver, startHttpReceiver } from '../../test/support/receivers.js';
import { classifyResponse, parseRetryAfter, postJson } from './http.js';

const h = (o: Record<string, string> = {}) => new Headers(o);
const NOW = Date.UTC(2026, 0, 1);

describe('the shared HTTP classifier', () => {
  test('2xx ok; 429 and 5xx retryable with Retry-After; 410 disables; other 4xx and 3xx permanent', () => {
    assert.deepEqual(classifyResponse(202, h(), '', NOW), { ok: true, statusCode: 202 });
    const r429 = classifyResponse(429, h({ 'retry-after': '7' }), 'slow down', NOW);
    assert.deepEqual(r429, {
      ok: false,
      retryable: true,
      statusCode: 429,
      reason: 'HTTP 429: slow down',
      retryAfterMs: 7000,
    });
    const r503 = classifyResponse(503, h(), '', NOW);
    assert.ok(!r503.ok && r503.retryable && r503.retryAfterMs === undefined);
    const gone = classifyResponse(410, h(), 'channel_is_archived', NOW);
    assert.ok(!gone.ok && !gone.retryable && gone.disable);
    const bad = classifyResponse(400, h(), 'invalid_payload', NOW);
    assert.ok(!bad.ok && !bad.retryable && !bad.disable && bad.reason === 'HTTP 400: invalid_payload');
    const moved = classifyResponse(301, h({ location: 'http://elsewhere' }), '', NOW);
    assert.ok(!moved.ok && !moved.retryable && /redirect not followed/.test(moved.reason));
  });

  test('Retry-After in seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('120', NOW), 120_000);
    assert.equal(parseRetryAfter(new Date(NOW + 30_000).toUTCString(), NOW), 30_000);
    assert.equal(parseRetryAfter('soon', NOW), undefined);
    assert.equal(parseRetryAfter(null, NOW), undefined);
  });
});

describe('postJson against a real receiver', () => {
  let rx: HttpReceiver;
  before(async () => {
    rx = await startHttpReceiver();
  });
  after(() => rx.close());
  const post = (path: string, signal = new AbortController().signal) =>
    postJson({
      url: `${rx.url}${path}`,
      body: '{"a":1}',
      signal,
      now: () => NOW,
      headers: { 'x-extra': 'y' },
    });

  test('posts JSON with our headers and does not follow a redirect', async () => {
    rx.answer((r) =>
      r.path === '/moved' ? { status: 302, headers: { location: `${rx.url}/target` } } : { status: 200 },
    );
    assert.deepEqual(await post('/ok'), { ok: true, statusCode: 200 });
    const moved = await post('/moved');
    assert.equal(moved.ok, false);
    assert.deepEqual(
      rx.requests.map((r) => r.path),
      ['/ok', '/moved'],
      'the redirect target was never requested',
    );
    assert.equal(rx.requests[0]!.headers['content-type'], 'application/json');
    assert.equal(rx.requests[0]!.headers['x-extra'], 'y');
    assert.match(String(rx.requests[0]!.headers['user-agent']), /^prodmon\//);
  });

  test('a network error is retryable and its reason never shows the (secret) URL', async () => {
    const gone = await startHttpReceiver();
    const url = `${gone.url}/services/T000/B000/XXXXSECRET`;
    await gone.close();
    const r = await postJson({ url, body: '{}', signal: new AbortController().signal, now: () => NOW });
    assert.ok(!r.ok && r.retryable);
    assert.match(r.reason, /network error: ECONNREFUSED/);
    assert.doesNotMatch(r.reason, /XXXXSECRET/);
  });

  test('an abort (timeout) gives a retryable outcome with the abort reason', async () => {
    rx.answer(() => 'hold');
    const ctl = new AbortController();
    const p = post('/slow', ctl.signal);
    await rx.waitFor(rx.requests.length + 1);
    ctl.abort(new Error('timed out after 10s'));
    const r = await p;
    assert.deepEqual([r.ok, !r.ok && r.retryable, !r.ok && r.reason], [false, true, 'timed out after 10s']);
  });
});
