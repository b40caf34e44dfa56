/**
 * Windows of request rollups for the deployment gate's tests and bench: requests with given latencies
 * recorded minute by minute through prodmon's own Recorder on a controlled clock, then read back as the
 * gate reads them (src/baseline/window.ts).
 */
import { readWindow, type WindowFigures } from '../../src/baseline/window.js';
import { FakeClock } from '../../src/core/clock.js';
import { METRIC } from '../../src/metrics/names.js';
import { Recorder } from '../../src/metrics/recorder.js';
import type { Store } from '../../src/store/index.js';

/** One request of a minute: its route, method, duration and whether it failed. */
export interface FakeRequest {
  method: string;
  route: string;
  ms: number;
  failed?: boolean;
}

/** A recorder on a fake clock that keeps every minute in memory (nothing flushes it). */
export function memoryRecorder(instance = 'test'): { recorder: Recorder; clock: FakeClock } {
  const clock = new FakeClock(0);
  const recorder = new Recorder({
    clock,
    instance,
    maxSeries: 1000,
    maxBufferedRows: 1_000_000,
  });
  return { recorder, clock };
}

/** Records the requests of each minute from `start` (a whole minute), minute i from `minute(i)`. */
export function recordMinutes(
  recorder: Recorder,
  start: number,
  minutes: number,
  minute: (i: number) => readonly FakeRequest[],
): void {
  for (let i = 0; i < minutes; i++) {
    const t0 = start + i * 60_000;
    const reqs = minute(i);
    reqs.forEach((r, k) => {
      const labels = { route: r.route, method: r.method, status_class: r.failed ? '5xx' : '2xx' };
      recorder.observe(
        recorder.series(METRIC.httpRequest, labels),
        r.ms,
        r.failed === true,
        t0 + Math.floor((k / Math.max(1, reqs.length)) * 59_000),
      );
    });
  }
}

/** A window of `minutes` minutes from `start`, recorded and read back. */
export async function fakeWindow(
  start: number,
  minutes: number,
  minute: (i: number) => readonly FakeRequest[],
): Promise<WindowFigures> {
  const { recorder } = memoryRecorder();
  try {
    recordMinutes(recorder, start, minutes, minute);
    return await readWindow({ store: null, recorder }, { from: start, until: start + minutes * 60_000 });
  } finally {
    recorder.close();
  }
}

/** A deterministic pseudo-random source in [0, 1). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal latency (ms) with median `median` and shape `sigma`. */
export function logNormal(random: () => number, median: number, sigma = 0.5): number {
  const u = Math.max(1e-12, random());
  const v = random();
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}

/** Writes what a recorder holds to a store, as a flush does, and forgets it. */
export async function flushTo(recorder: Recorder, store: Store): Promise<number> {
  const batch = recorder.collect();
  const rows = batch.rows;
  await store.rollups.upsert(rows);
  batch.commit();
  return rows.length;
}
