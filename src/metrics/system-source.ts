/**
 * Readings of the host and the process from Node built-ins: CPU (host and process), memory
 * (cgroup-aware), disk per path, event-loop delay and utilisation, GC pauses.
 */
import { statfs } from 'node:fs/promises';
import { availableParallelism, cpus, freemem, totalmem } from 'node:os';
import { dirname } from 'node:path';
import {
  type EventLoopUtilization,
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
  performance,
} from 'node:perf_hooks';

/** Disk figures of one path. */
export interface DiskReading {
  path: string;
  usedPercent: number;
  freeBytes: number;
}

/** One sample of everything (null where a figure is not available yet). */
export interface SystemReading {
  cpuHostPercent: number | null;
  cpuProcessPercent: number | null;
  memoryPercent: number | null;
  rssBytes: number;
  heapUsedBytes: number;
  disks: DiskReading[];
  /** p99 of the event-loop delay since the previous reading. */
  eventLoopLagMs: number | null;
  eventLoopUtilizationPercent: number | null;
}

/** Where readings come from (the Node one, or a fake in tests). */
export interface SystemSource {
  /** Starts the monitors; `onGc` receives each GC pause in ms. */
  start(onGc: (ms: number) => void): void;
  read(diskPaths: readonly string[]): Promise<SystemReading>;
  stop(): void;
}

// constrainedMemory() of ~2^64 (or 0) means no limit.
const NO_LIMIT = 2 ** 60;

/** Memory used in % of the cgroup limit when one is set, else of the host's memory. */
export function memoryPercent(): number | null {
  const limit = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  const avail = (process as { availableMemory?: () => number }).availableMemory;
  if (limit && limit > 0 && limit < NO_LIMIT && limit < totalmem() && typeof avail === 'function') {
    return clampPercent(((limit - avail()) / limit) * 100);
  }
  const total = totalmem();
  return total > 0 ? clampPercent(((total - freemem()) / total) * 100) : null;
}

function clampPercent(v: number): number {
  return Math.min(100, Math.max(0, v));
}

/** Busy and total CPU time of all cores so far (ms), from `os.cpus()`. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** Busy and total CPU time of all cores so far (ms). */
export function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

/** Host CPU busy time between two readings in % of the time that passed (null when none passed). */
export function cpuBusyPercent(a: CpuTimes, b: CpuTimes): number | null {
  const total = b.total - a.total;
  return total > 0 ? clampPercent(((b.busy - a.busy) / total) * 100) : null;
}

/** Disk usage of a path (like `df`: used / (used + available to users)), walking up to an existing directory. */
export async function diskUsage(path: string): Promise<DiskReading | null> {
  let p = path;
  for (let i = 0; i < 64; i++) {
    try {
      const s = await statfs(p);
      const used = (s.blocks - s.bfree) * s.bsize;
      const avail = s.bavail * s.bsize;
      const usedPercent = used + avail > 0 ? (used / (used + avail)) * 100 : 0;
      return { path, usedPercent: clampPercent(usedPercent), freeBytes: avail };
    } catch (err) {
      const parent = dirname(p);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) return null;
      p = parent;
    }
  }
  return null;
}

/** The real readings of this host and process. */
export class NodeSystemSource implements SystemSource {
  #delay: IntervalHistogram | null = null;
  #gc: PerformanceObserver | null = null;
  #elu: EventLoopUtilization | null = null;
  #cpu: CpuTimes | null = null;
  #proc: { usage: NodeJS.CpuUsage; at: bigint } | null = null;

  start(onGc: (ms: number) => void): void {
    this.#delay = monitorEventLoopDelay({ resolution: 10 });
    this.#delay.enable();
    this.#elu = performance.eventLoopUtilization();
    this.#cpu = cpuTimes();
    this.#proc = { usage: process.cpuUsage(), at: process.hrtime.bigint() };
    try {
      this.#gc = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) onGc(e.duration);
      });
      this.#gc.observe({ entryTypes: ['gc'] });
    } catch {
      this.#gc = null; // GC entries are not available everywhere; the rest still works
    }
  }

  async read(diskPaths: readonly string[]): Promise<SystemReading> {
    const now = cpuTimes();
    let cpuHostPercent: number | null = null;
    if (this.#cpu) cpuHostPercent = cpuBusyPercent(this.#cpu, now);
    this.#cpu = now;

    let cpuProcessPercent: number | null = null;
    const at = process.hrtime.bigint();
    const usage = process.cpuUsage();
    if (this.#proc) {
      const elapsedUs = Number(at - this.#proc.at) / 1000;
      const usedUs = usage.user - this.#proc.usage.user + (usage.system - this.#proc.usage.system);
      // % of the whole machine (all cores), comparable with the host figure.
      if (elapsedUs >= 50_000)
        cpuProcessPercent = clampPercent((usedUs / elapsedUs / availableParallelism()) * 100);
    }
    if (cpuProcessPercent !== null || !this.#proc) this.#proc = { usage, at };

    let eventLoopLagMs: number | null = null;
    if (this.#delay && this.#delay.count > 0) {
      eventLoopLagMs = this.#delay.percentile(99) / 1e6;
      this.#delay.reset();
    }
    let eventLoopUtilizationPercent: number | null = null;
    if (this.#elu) {
      const cur = performance.eventLoopUtilization();
      eventLoopUtilizationPercent = clampPercent(
        performance.eventLoopUtilization(cur, this.#elu).utilization * 100,
      );
      this.#elu = cur;
    }
    const mem = process.memoryUsage();
    const disks: DiskReading[] = [];
    for (const p of diskPaths) {
      const d = await diskUsage(p);
      if (d) disks.push(d);
    }
    return {
      cpuHostPercent,
      cpuProcessPercent,
      memoryPercent: memoryPercent(),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      disks,
      eventLoopLagMs,
      eventLoopUtilizationPercent,
    };
  }

  stop(): void {
    this.#delay?.disable();
    this.#delay = null;
    this.#gc?.disconnect();
    this.#gc = null;
  }
}
