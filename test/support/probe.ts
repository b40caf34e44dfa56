/**
 * A paced probe: GETs a URL every `everyMs` from a worker thread (its own event loop, so a stall of
 * the server's loop in this process delays the answers, never the sending) and records each latency
 * from the moment the request was due (a request that waits behind a stall counts the wait).
 */
import { Worker } from 'node:worker_threads';

const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { readFileSync } = require('node:fs');
const { url, everyMs, cpuOf } = workerData;
// CPU time (ms, 10 ms ticks) of a process's main thread so far, or NaN (no such process, no /proc).
const cpu = () => {
  if (!cpuOf) return Number.NaN;
  try {
    const stat = readFileSync('/proc/' + cpuOf + '/task/' + cpuOf + '/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
};
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const samples = [];
let stopping = false;
let inflight = 0;
let failures = 0;
const done = () => {
  if (stopping && inflight === 0) {
    agent.destroy();
    parentPort.postMessage({ samples, failures });
  }
};
parentPort.on('message', () => { stopping = true; done(); });
const start = performance.now();
let n = 0;
const tick = () => {
  if (stopping) return;
  const due = start + n * everyMs;
  n++;
  inflight++;
  const sent = performance.now();
  const cpu0 = cpu();
  const req = http.get(url, { agent }, (res) => {
    res.resume();
    res.on('end', () => {
      samples.push([performance.timeOrigin + due, performance.now() - due, res.statusCode, sent - due, cpu() - cpu0]);
      inflight--;
      done();
    });
  });
  req.on('error', () => { failures++; inflight--; done(); });
  setTimeout(tick, Math.max(0, start + n * everyMs - performance.now()));
};
tick();
`;

/**
 * One answer: when it was due (ms since the epoch, fractional), its latency from then (ms), its status,
 * how late it was sent (ms: the probe's own lag, on a machine short of CPU), and the CPU time the
 * server's main thread used while the request waited (ms, in 10 ms ticks; NaN unless `cpuOf` is given).
 */
export type ProbeSample = [
  due: number,
  latencyMs: number,
  status: number,
  sentLateMs: number,
  serverCpuMs: number,
];

/** A running probe; `stop()` waits for the requests in flight and returns every sample. */
export interface Probe {
  stop(): Promise<{ samples: ProbeSample[]; latencies: number[]; serverCpu: number[]; failures: number }>;
}

/**
 * Starts probing `url` every `everyMs`. With `cpuOf` (the server's pid, on Linux), each sample also
 * says how much CPU the server's event loop thread spent while the request waited: what a stall is,
 * whatever else the machine is busy with (a wall-clock latency also counts the time the server was
 * not given a CPU at all).
 */
export function startProbe(url: string, everyMs = 10, cpuOf?: number): Probe {
  const worker = new Worker(PROBE, { eval: true, workerData: { url, everyMs, cpuOf } });
  const result = new Promise<{ samples: ProbeSample[]; failures: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const r = await result;
      await worker.terminate();
      return { ...r, latencies: r.samples.map((s) => s[1]), serverCpu: r.samples.map((s) => s[4]) };
    },
  };
}

/** The value at quantile `q` of `xs` (nearest rank). */
export function quantileOf(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const POSTER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, headers, bodies, concurrency } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const statuses = new Array(bodies.length);
let next = 0;
const one = () => new Promise((resolve) => {
  const i = next++;
  if (i >= bodies.length) return resolve(false);
  const body = Buffer.from(bodies[i]);
  const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
    let text = '';
    res.on('data', (d) => { text += d; });
    res.on('end', () => { statuses[i] = [res.statusCode, text.slice(0, 300)]; resolve(true); });
  });
  req.on('error', (err) => { statuses[i] = [0, String(err)]; resolve(true); });
  req.end(body);
});
const lane = async () => { while (await one()); };
Promise.all(Array.from({ length: concurrency }, lane)).then(() => { agent.destroy(); parentPort.postMessage(statuses); });
`;

/**
 * POSTs every body to `url` from a worker thread, `concurrency` at a time, so that the client's own
 * work (writing megabytes) does not run on the event loop of a server in this process. The bodies are
 * moved to the worker (unusable here afterwards). Resolves with each request's status and the start
 * of its answer, in order.
 */
export async function postFromWorker(
  url: string,
  bodies: readonly Buffer[],
  headers: Record<string, string>,
  concurrency = 5,
): Promise<[status: number, body: string][]> {
  // Moved to the worker, not copied (a copy of megabytes would hold this thread): bodies that share
  // their memory with others are copied first.
  const copies = bodies.map(
    (b): ArrayBuffer =>
      b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
        ? (b.buffer as ArrayBuffer)
        : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
  );
  const worker = new Worker(POSTER, {
    eval: true,
    workerData: { url, headers, bodies: copies, concurrency },
    transferList: copies,
  });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}
