import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  checkFrom,
  runAbortedAgainstHungServer,
  runAgainstHungServer,
  selfSignedCert,
} from '../../../test/support/health.js';
import { tempDir } from '../../../test/support/services.js';
import { displayUrl } from './index.js';

let server: Server;
let base = '';
const seen: { method?: string; auth?: string; body: string }[] = [];
const dir = tempDir();

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      seen.push({ method: req.method, auth: req.headers.authorization, body });
      const path = (req.url ?? '').split('?')[0];
      if (path === '/health')
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"db":"up"}');
      else if (path === '/down') res.writeHead(503).end('maintenance');
      else if (path === '/slow') setTimeout(() => res.writeHead(200).end('ok'), 80);
      else if (path === '/created') res.writeHead(201).end();
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  dir.cleanup();
});

describe('http check', () => {
  test('2xx is healthy, with the status code and latency; headers and body are sent', async () => {
    const r = await checkFrom({
      name: 'api',
      kind: 'http',
      url: `${base}/health?token=QuerySecret1`,
      method: 'POST',
      headers: { authorization: 'Bearer HeaderSecret123' },
      body: 'ping',
    }).run();
    assert.equal(r.status, 'healthy', r.error ?? '');
    assert.equal(r.details.statusCode, 200);
    assert.equal(typeof r.details.latencyMs, 'number');
    assert.equal(r.details.url, `${base}/health?token=********`, 'query values masked');
    assert.deepEqual(seen.at(-1), { method: 'POST', auth: 'Bearer HeaderSecret123', body: 'ping' });
    assert.doesNotMatch(JSON.stringify(r), /QuerySecret1|HeaderSecret123/);
  });

  test('an unexpected status is unhealthy: "expected status 2xx, got 503"', async () => {
    const r = await checkFrom({ name: 'api', kind: 'http', url: `${base}/down` }).run();
    assert.equal(r.status, 'unhealthy');
    assert.equal(r.error, 'expected status 2xx, got 503');
    const exact = await checkFrom({
      name: 'api',
      kind: 'http',
      url: `${base}/created`,
      expected_status: 200,
    }).run();
    assert.equal(exact.error, 'expected status 200, got 201');
    const list = await checkFrom({
      name: 'api',
      kind: 'http',
      url: `${base}/down`,
      expected_status: [200, 503],
    }).run();
    assert.equal(list.status, 'healthy');
  });

  test('the body must contain a text or match a regex when asked', async () => {
    const ok = await checkFrom({
      name: 'a',
      kind: 'http',
      url: `${base}/health`,
      body_contains: '"db":"up"',
      body_regex: '"ok":\\s*true',
    }).run();
    assert.equal(ok.status, 'healthy');
    assert.equal(ok.details.bodyMatched, true);
    const bad = await checkFrom({
      name: 'a',
      kind: 'http',
      url: `${base}/health`,
      body_contains: '"db":"down"',
    }).run();
    assert.equal(bad.status, 'unhealthy');
    assert.equal(bad.error, 'body does not contain "\\"db\\":\\"down\\""');
    const re = await checkFrom({
      name: 'a',
      kind: 'http',
      url: `${base}/health`,
      body_regex: '^maintenance$',
    }).run();
    assert.equal(re.error, 'body does not match /^maintenance$/');
  });

  test('a response slower than latency_threshold is degraded', async () => {
    const r = await checkFrom({
      name: 'a',
      kind: 'http',
      url: `${base}/slow`,
      latency_threshold: '20ms',
    }).run();
    assert.equal(r.status, 'degraded');
    assert.match(r.error ?? '', /^slow: [\d.]+ ms \(threshold 20 ms\)$/);
  });

  test('a server that accepts and never answers: timed out, and the server sees the close by timeout + 100 ms', async () => {
    const t0 = performance.now();
    const r = await runAgainstHungServer(
      (port) => ({ name: 'a', kind: 'http', url: `http://127.0.0.1:${port}/` }),
      400,
    );
    const took = performance.now() - t0;
    assert.equal(r.status, 'unhealthy');
    assert.equal(r.error, 'timed out after 400 ms');
    assert.ok(took >= 390, `took ${Math.round(took)} ms`);
  });

  test('a timeout that passes before the check has connected leaves no connection open', async () => {
    await runAbortedAgainstHungServer(
      (port) => ({
        name: 'a',
        kind: 'http',
        url: `http://127.0.0.1:${port}/`,
      }),
      'before',
    );
  });

  test('a timeout while the TCP connection is being made destroys that socket: it does not connect later and stay open', async () => {
    await runAbortedAgainstHungServer(
      (port) => ({
        name: 'a',
        kind: 'http',
        url: `http://127.0.0.1:${port}/`,
      }),
      'connecting',
    );
  });

  test("https: the certificate's days left are reported, degraded under cert_days_warning", async () => {
    const { key, cert, certPath } = selfSignedCert(dir.path, 10);
    const tls = createHttpsServer({ key, cert }, (_req, res) => res.end('secure'));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/`;
    try {
      const r = await checkFrom({ name: 's', kind: 'http', url, ca: certPath }).run();
      assert.equal(r.status, 'degraded', r.error ?? '');
      const c = r.details.certificate as { daysLeft: number; validTo: string; subject: string };
      assert.ok(c.daysLeft === 9 || c.daysLeft === 10, String(c.daysLeft));
      assert.equal(c.subject, '127.0.0.1');
      assert.match(
        r.error ?? '',
        /^TLS certificate expires in (9|10) days \(\d{4}-\d\d-\d\d; warning under 14\)$/,
      );
      const relaxed = await checkFrom({
        name: 's',
        kind: 'http',
        url,
        ca: certPath,
        cert_days_warning: 5,
      }).run();
      assert.equal(relaxed.status, 'healthy');
      // Not trusted without the CA: unhealthy, with the TLS reason.
      const untrusted = await checkFrom({ name: 's', kind: 'http', url }).run();
      assert.equal(untrusted.status, 'unhealthy');
      assert.match(untrusted.error ?? '', /self[- ]signed certificate/);
      const insecure = await checkFrom({
        name: 's',
        kind: 'http',
        url,
        insecure: true,
        cert_days_warning: 0,
      }).run();
      assert.equal(insecure.status, 'healthy');
    } finally {
      await new Promise<void>((r) => tls.close(() => r()));
    }
  });

  test('connection refused is unhealthy naming the URL with its credentials masked', async () => {
    const r = await checkFrom({ name: 'a', kind: 'http', url: 'http://user:PwInUrl99@127.0.0.1:1/x' }).run();
    assert.equal(r.status, 'unhealthy');
    assert.match(r.error ?? '', /^GET http:\/\/user:\*{8}@127\.0\.0\.1:1\/x: connect ECONNREFUSED/);
    assert.doesNotMatch(JSON.stringify(r), /PwInUrl99/);
    assert.equal(
      displayUrl('https://a:b@h.example:8443/p?q=1&flag'),
      'https://a:********@h.example:8443/p?q=********&flag',
    );
  });
});
