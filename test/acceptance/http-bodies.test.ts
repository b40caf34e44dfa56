/**
 * Request bodies are read only once the request is authenticated: a real `prodmon start` process
 * answers unauthenticated 19 MB posts with 401 (or 404 where no route is) without reading them, while
 * its memory stays flat and `GET /health/` stays quick.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { finished, spawnCli, waitForOutput } from '../support/cli.js';
import { tempDir } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const ADMIN = 'admin-token-0123456789abcdef';
const PUSH = 'push-token-0123456789abcdef0';
const MB = 1024 * 1024;

/** Resident memory of a process (bytes), from /proc. */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Posts `body` to `path`; the status, or the socket error when the server closed before answering. */
function post(
  base: string,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number | string; connection?: string }> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: `response ${e.code}` }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: `request ${e.code}` }));
    req.end(body);
  });
}

/**
 * Declares a body of `declared` bytes, sends only its first `sent` bytes and waits for the answer: a
 * server that reads bodies before authenticating never answers (it waits for the rest).
 */
function earlyAnswer(
  base: string,
  path: string,
  declared: number,
  sent: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; connection?: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({
      host: u.hostname,
      port: u.port,
      path,
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(declared), ...headers },
    });
    const deadline = setTimeout(() => {
      req.destroy();
      reject(new Error(`${path}: no answer within 10 s while the body was incomplete`));
    }, 10_000);
    req.on('response', (res) => {
      clearTimeout(deadline);
      res.resume();
      resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
      req.destroy();
    });
    req.on('error', (e) => {
      clearTimeout(deadline);
      reject(e);
    });
    req.write(Buffer.alloc(sent, 'x'));
  });
}

/** Protected routes (and one that does not exist), how they are called, and the answer expected. */
const TARGETS: [string, Record<string, string>, number][] = [
  ['/production/ingest', {}, 401],
  ['/production/ingest', { authorization: 'Bearer not-a-token' }, 401],
  ['/production/api/silences', {}, 401],
  ['/production/alerts/silences/', { authorization: `Bearer ${PUSH}` }, 403],
  ['/production/alerts/resolve/', {}, 401],
  ['/production/dashboard/silences', {}, 303],
  ['/production/dashboard/login', {}, 403],
  ['/production/no-such-route', {}, 404],
];

/**
 * A paced probe in a worker thread (so the attack's own work in this thread cannot delay it): one
 * request every `everyMs` over a keep-alive connection, timed, until stopped.
 */
function startProbe(target: string, everyMs: number) {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `
    const { workerData, parentPort } = require('node:worker_threads');
    const { Agent, request } = require('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const latencies = [];
    let stop = false;
    parentPort.on('message', () => { stop = true; });
    (async () => {
      while (!stop) {
        const t0 = performance.now();
        const status = await new Promise((resolve, reject) => {
          request(workerData.target, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          }).on('error', reject).end();
        });
        if (status !== 200) throw new Error('GET /health/ answered ' + status);
        latencies.push(performance.now() - t0);
        Atomics.add(workerData.counter, 0, 1);
        await new Promise((r) => setTimeout(r, workerData.everyMs));
      }
      agent.destroy();
      parentPort.postMessage(latencies);
    })().catch((err) => { throw err; });
    `,
    { eval: true, workerData: { target, everyMs, counter } },
  );
  const done = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    count: () => Atomics.load(counter, 0),
    async stop(): Promise<number[]> {
      worker.postMessage('stop');
      try {
        return await done;
      } finally {
        await worker.terminate();
      }
    },
  };
}

const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;

describe('unauthenticated request bodies (prodmon start)', () => {
  const dir = tempDir();
  let child: ChildProcess;
  let result: ReturnType<typeof finished>;
  let url: string;

  before(async () => {
    writeFileSync(
      join(dir.path, 'prodmon.yaml'),
      [
        'auth:',
        '  tokens:',
        `    - { name: ops, token: "${ADMIN}", role: admin }`,
        `    - { name: pusher, token: "${PUSH}", role: push }`,
        '',
      ].join('\n'),
    );
    child = spawnCli(['start', '--port', '0'], { cwd: dir.path });
    result = finished(child);
    [, url] = (await waitForOutput(child, /listening on (http:\/\/[\d.]+:\d+)/, 60_000)) as unknown as [
      string,
      string,
    ];
  });
  after(async () => {
    child.kill('SIGTERM');
    const r = await result;
    dir.cleanup();
    assert.equal(r.code, 0, r.stderr);
  });

  test('a 19 MB body without a valid token is answered from its headers, before the body is sent', async () => {
    for (const [path, headers, expected] of TARGETS) {
      const r = await earlyAnswer(url, path, 19 * MB, 64 * 1024, headers);
      assert.equal(r.status, expected, path);
      assert.equal(r.connection, 'close', `${path}: the unread body's connection is closed`);
    }
  });

  test('24 posts of 19 MB, 8 at a time, without a valid token: refused unread, RSS flat, /health/ quick', async (t) => {
    const pid = child.pid!;
    // Not JSON at all: a body that was parsed would be answered 400, not 401.
    const junk = Buffer.alloc(19 * MB, 'x');
    // Warm up, then the baseline.
    for (let i = 0; i < 20; i++) await (await fetch(`${url}/health/`)).arrayBuffer();
    const before = rss(pid);

    let peak = before;
    const probe = startProbe(`${url}/health/`, 5);
    const sampler = setInterval(() => {
      peak = Math.max(peak, rss(pid));
    }, 5);
    let stopped: Promise<number[]> | undefined;
    const stopProbe = () => {
      clearInterval(sampler);
      stopped ??= probe.stop();
      return stopped;
    };
    t.after(() => stopProbe().catch(() => {})); // a failure half-way leaves no worker running

    const outcomes: { path: string; expected: number; status: number | string; connection?: string }[] = [];
    // The attack: 24 posts, 8 at a time; the probe goes on to 150 answers (p99 then leaves out one
    // outlier of a busy machine, not a slowed stretch).
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        TARGETS.map(async ([path, headers, expected]) => {
          const r = await post(url, path, junk, headers);
          outcomes.push({ path, expected, ...r });
          peak = Math.max(peak, rss(pid));
        }),
      );
    }
    await waitFor(() => probe.count() >= 150, {
      timeout: 60_000,
      interval: 20,
      what: () => `150 probe answers (${probe.count()})`,
    });
    const latencies = await stopProbe();

    // Each is answered, or its connection closed while the client was still sending the body it was
    // told would not be read (a client writing all before reading may see the reset first). Never 400:
    // this junk was not parsed.
    for (const o of outcomes) {
      if (typeof o.status === 'string')
        assert.match(o.status, /^(request|response) (EPIPE|ECONNRESET)$/, o.path);
      else {
        assert.equal(o.status, o.expected, `${o.path}: ${JSON.stringify(o)}`);
        assert.equal(o.connection, 'close', `${o.path}: the unread body's connection is closed`);
      }
    }
    assert.ok(outcomes.filter((o) => typeof o.status === 'number').length > 0);
    const growth = peak - before;
    t.diagnostic(
      `RSS ${Math.round(before / MB)} -> ${Math.round(peak / MB)} MB, health p50 ${[...latencies].sort((a, b) => a - b)[latencies.length >> 1]!.toFixed(1)} p99 ${p99(latencies).toFixed(1)} max ${Math.max(...latencies).toFixed(1)} ms over ${latencies.length}, ${outcomes.length} posts`,
    );
    assert.ok(
      growth < 64 * MB,
      `RSS grew by ${Math.round(growth / MB)} MB (from ${Math.round(before / MB)} MB)`,
    );
    // The goal is well under 200 ms; bounded at 5x that, as the suite may run on a loaded machine (a
    // body read and parsed before the answer would hold /health/ for seconds).
    assert.ok(
      p99(latencies) < 5 * 200,
      `GET /health/ p99 ${p99(latencies).toFixed(1)} ms over ${latencies.length}, ${outcomes.length} posts`,
    );
  });

  test('a wrong token with a body of at most 1 MiB: 401, the body dropped unparsed and the connection kept', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, body?: Buffer, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; connection?: string; reused: boolean }>((resolve, reject) => {
        const req = request(`${url}${path}`, { method, agent, headers }, (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              connection: res.headers.connection,
              reused: req.reusedSocket,
            }),
          );
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const junk = Buffer.alloc(1024 * 1024, 'x');
      const r = await send('POST', '/production/ingest', junk, {
        authorization: 'Bearer not-a-token',
        'content-type': 'application/json',
      });
      assert.equal(r.status, 401);
      assert.equal(r.connection, 'keep-alive');
      const next = await send('GET', '/health/');
      assert.equal(next.status, 200);
      assert.equal(next.reused, true, 'the same connection serves the next request');
    } finally {
      agent.destroy();
    }
  });

  test('with a valid token the body is read, up to the route limit: 64 KiB on the API (413 beyond)', async () => {
    const big = Buffer.from(JSON.stringify({ rule: 'x', comment: 'y'.repeat(70 * 1024), duration: '1h' }));
    const r = await post(url, '/production/api/silences', big, { authorization: `Bearer ${ADMIN}` });
    assert.equal(r.status, 413);
    const ok = await post(
      url,
      '/production/api/silences',
      Buffer.from('{"rule":"x","comment":"deploy","duration":"1h"}'),
      {
        authorization: `Bearer ${ADMIN}`,
      },
    );
    assert.equal(ok.status, 201);
  });
});
