/** The system sampler: every `metrics.sample_interval`, one reading of the host and process into the recorder. */
import type { Clock } from '../core/clock.js';
import { type Loop, startLoop } from '../core/loop.js';
import { METRIC } from './names.js';
import type { Recorder } from './recorder.js';
import type { Series } from './series.js';
import type { SystemReading, SystemSource } from './system-source.js';

/** What the sampler needs. */
export interface SamplerOptions {
  clock: Clock;
  recorder: Recorder;
  source: SystemSource;
  intervalMs: number;
  diskPaths: readonly string[];
  onError: (err: unknown) => void;
}

/** Samples system figures on a loop (and GC pauses as they happen). */
export class SystemSampler {
  readonly #opts: SamplerOptions;
  #loop: Loop | null = null;
  #gcSeries: Series | null = null;
  /** The latest reading (null before the first). */
  last: SystemReading | null = null;

  constructor(opts: SamplerOptions) {
    this.#opts = opts;
  }

  /** Starts the loop; the first sample is taken after one interval (CPU needs a baseline). */
  start(): void {
    if (this.#loop) return;
    const { recorder } = this.#opts;
    this.#gcSeries = recorder.series(METRIC.gcPause, {});
    this.#opts.source.start((ms) => recorder.observe(this.#gcSeries!, ms));
    this.#loop = startLoop({
      clock: this.#opts.clock,
      intervalMs: this.#opts.intervalMs,
      immediate: false,
      body: async () => {
        await this.sample();
      },
      onError: this.#opts.onError,
    });
  }

  /** Takes one reading and records it. */
  async sample(): Promise<SystemReading> {
    const r = await this.#opts.source.read(this.#opts.diskPaths);
    const rec = this.#opts.recorder;
    const put = (metric: string, labels: Record<string, string>, v: number | null) => {
      if (v !== null && Number.isFinite(v)) rec.record(metric, labels, v);
    };
    put(METRIC.cpu, { scope: 'host' }, r.cpuHostPercent);
    put(METRIC.cpu, { scope: 'process' }, r.cpuProcessPercent);
    put(METRIC.memory, {}, r.memoryPercent);
    put(METRIC.processRss, {}, r.rssBytes);
    put(METRIC.heapUsed, {}, r.heapUsedBytes);
    put(METRIC.eventLoopLag, {}, r.eventLoopLagMs);
    put(METRIC.eventLoopUtilization, {}, r.eventLoopUtilizationPercent);
    for (const d of r.disks) {
      put(METRIC.disk, { path: d.path }, d.usedPercent);
      put(METRIC.diskFree, { path: d.path }, d.freeBytes);
    }
    this.last = r;
    return r;
  }

  /** Stops the loop and the monitors. */
  async stop(): Promise<void> {
    await this.#loop?.stop();
    this.#loop = null;
    this.#opts.source.stop();
  }
}
