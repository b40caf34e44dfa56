/**
 * A standalone prodmon as the hub of many pushing instances keeps answering `/health/` while it takes
 * in large pushes, evaluates the rules over thousands of series and reads the performance of the hour:
 * that work is done in slices (src/core/slice.ts), so a paced probe's requests are answered throughout.
 * The hub runs in a process of its own; the probe measures each request's latency and the CPU time the
 * hub's event loop thread spent while the request waited (what a stall is, however busy the machine).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { METRIC } from '../../src/metrics/names.js';
import { MINUTE_MS } from '../../src/metrics/rollup.js';
import { encodeSketch, newSketch, sketchAdd } from '../../src/metrics/sketch.js';
import type { WireRow } from '../../src/metrics/wire.js';
import { bundled } from '../support/build.js';
import { postFromWorker, quantileOf, startProbe } from '../support/probe.js';
import { tempDir } from '../support/services.js';

const PUSH = 'push-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';
const ROUTES = 200;
const CHILD = fileURLToPath(new URL('../support/hub-child.ts', import.meta.url));

/** Latency sketches of a realistic mix (tens of ms, a tail to a few hundred), encoded once. */
const SKETCHES = Array.from({ length: 32 }, (_, i) => {
  const s = newSketch();
  const values = Array.from(
    { length: 30 + i },
    (_, k) => 8 + ((k * 37 + i * 11) % 90) + (k % 13 === 0 ? 300 : 0),
  );
  for (const v of values) sketchAdd(s, v);
  return {
    base64: encodeSketch(s).toString('base64'),
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: Math.min(...values),
    max: Math.max(...values),
  };
});

const now = Date.now();
const minute = now - (now % MINUTE_MS);

/** One instance's push: its 200 routes over the `minutes` minutes up to this one. */
function push(i: number, minutes: number): Buffer {
  const rows: WireRow[] = [];
  for (let k = 0; k < minutes; k++) {
    for (let r = 0; r < ROUTES; r++) {
      const s = SKETCHES[(i + r + k) % SKETCHES.length]!;
      rows.push({
        metric: METRIC.httpRequest,
        labels: { method: 'GET', route: `/api/r${r}`, status_class: '2xx' },
        resolution: MINUTE_MS,
        bucket: minute - k * MINUTE_MS,
        count: s.count,
        sum: s.sum,
        min: s.min,
        max: s.max,
        errors: 0,
        sketch: s.base64,
      });
    }
  }
  // In memory of its own (not the pool's), so it moves to the sending thread without a copy.
  const text = JSON.stringify({ instance: `app-${i}`, rows });
  const body = Buffer.alloc(Buffer.byteLength(text));
  body.write(text);
  return body;
}

describe('a hub of pushed series keeps answering /health/ while it works', {
  skip: !existsSync('/proc/self/task'),
}, () => {
  const dir = tempDir();
  let child: ChildProcess;
  let base: string;
  const headers = { authorization: `Bearer ${PUSH}`, 'content-type': 'application/json' };

  before(async () => {
    const config = {
      data_dir: dir.path,
      logs: { stdout: false },
      instance: 'hub',
      health: { builtin_checks: false },
      auth: {
        tokens: [
          { name: 'agents', token: PUSH, role: 'push' },
          { name: 'viewer', token: READ, role: 'read' },
        ],
      },
    };
    child = spawn(process.execPath, [bundled(CHILD), JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const port = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /PORT (\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the hub exited with ${code}`)));
    });
    base = `http://127.0.0.1:${port}`;
    // The last minutes of 10 instances x 200 routes, as their pushes left them.
    const seeded = await postFromWorker(
      `${base}/production/ingest`,
      Array.from({ length: 10 }, (_, i) => push(200 + i, 4)),
      headers,
    );
    for (const [status, text] of seeded) assert.equal(status, 200, text);
  });
  after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    dir.cleanup();
  });

  test('52 pushes of 200 series (2 of them 2,000 rows), an evaluation of every rule and the hour summary: the probe is answered throughout', async (t) => {
    // After an outage: 10 minutes of 200 routes, 2,000 rows (the largest batch a pusher sends).
    const bodies = [
      ...Array.from({ length: 2 }, (_, i) => push(100 + i, 5)),
      ...Array.from({ length: 50 }, (_, i) => push(i, 1)),
    ];
    const probe = startProbe(`${base}/health/`, 10, child.pid);
    const t0 = performance.now();
    // Sent from a worker thread, 5 at a time; each push also makes the hub evaluate its rules on the
    // fresh data (over every series of the window).
    const answers = await postFromWorker(`${base}/production/ingest`, bodies, headers, 5);
    for (const [status, text] of answers) assert.equal(status, 200, text);
    const evaluated = new Promise<number>((resolve) => {
      const on = (m: unknown) => {
        const ms = (m as { evaluated?: number }).evaluated;
        if (ms === undefined) return;
        child.off('message', on);
        resolve(ms);
      };
      child.on('message', on);
    });
    child.send('evaluate');
    await evaluated;
    const view = await fetch(`${base}/production/api/performance?range=1h`, {
      headers: { authorization: `Bearer ${READ}` },
    });
    assert.equal(view.status, 200);
    const summary = (await view.json()) as { summary: { instances: string[] } };
    const worked = performance.now() - t0;
    const { latencies, serverCpu, failures } = await probe.stop();

    assert.ok(summary.summary.instances.length >= 62, `${summary.summary.instances.length} instances`);
    assert.equal(failures, 0);
    assert.ok(latencies.length >= worked / 10 / 2, `${latencies.length} answers in ${worked.toFixed(0)} ms`);
    const cpuP99 = quantileOf(serverCpu, 0.99);
    const cpuMax = Math.max(...serverCpu);
    const figures = `while the hub worked ${worked.toFixed(0)} ms: /health/ p50 ${quantileOf(latencies, 0.5).toFixed(1)} ms, p99 ${quantileOf(latencies, 0.99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(0)} ms; hub CPU while a probe waited p99 ${cpuP99} ms, max ${cpuMax} ms`;
    // Bounds like timeouts, with a wide margin on both sides: the goal is a slice (8 ms) or two per
    // wait (a push's JSON body is parsed at once, a few ms per 100 KB; an SQLite statement may run a
    // WAL checkpoint), while work done in one piece held requests for seconds of CPU.
    t.diagnostic(figures);
    assert.ok(cpuP99 <= 300, `a probe waited behind more than a slice of work: ${figures}`);
    assert.ok(cpuMax <= 1000, `a probe waited behind more than a slice of work: ${figures}`);
  });
});
