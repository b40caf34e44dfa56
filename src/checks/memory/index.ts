/**
 * `memory`: system memory used % (the cgroup's limit and usage when one is set, else the host's), plus the
 * process's RSS and heap; against the `memory_usage` thresholds.
 */
import { freemem, totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { formatBytes } from '../../core/format.js';
import type { CheckDefinition, Levels } from '../types.js';
import { levelOf, thresholdsOf } from '../util.js';
import { type CgroupMemory, cgroupMemory, NO_LIMIT } from './cgroup.js';
import { shape } from './options.js';

type Options = { thresholds?: { warning?: number; critical?: number }; cgroup_root: string };

/** The memory the process may use and how much is used: the cgroup's when limited, else the host's. */
export async function systemMemory(
  root: string,
): Promise<{ scope: string; totalBytes: number; usedBytes: number }> {
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  let cg: CgroupMemory | null = null;
  try {
    cg = await cgroupMemory(root);
  } catch {
    cg = null;
  }
  if (cg && cg.limitBytes < totalmem()) {
    return { scope: `cgroup v${cg.version}`, totalBytes: cg.limitBytes, usedBytes: cg.usedBytes };
  }
  // A limit Node sees but the files did not show (another mount layout): use it with the RSS.
  if (constrained > 0 && constrained < NO_LIMIT && constrained < totalmem()) {
    return { scope: 'cgroup', totalBytes: constrained, usedBytes: process.memoryUsage.rss() };
  }
  const total = totalmem();
  return { scope: 'host', totalBytes: total, usedBytes: total - freemem() };
}

/** The `memory` kind. */
export const memoryCheck: CheckDefinition<Options, Options & { thresholds: Levels }> = {
  kind: 'memory',
  shape,
  resolve: (spec, d) => ({ ...spec, thresholds: thresholdsOf(spec.thresholds, d.memory) }),
  create(spec) {
    const t = spec.thresholds;
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run() {
        const sys = await systemMemory(spec.cgroup_root);
        const usedPercent = sys.totalBytes > 0 ? Math.round((sys.usedBytes / sys.totalBytes) * 1000) / 10 : 0;
        const mem = process.memoryUsage();
        const heapLimit = getHeapStatistics().heap_size_limit;
        const status = levelOf(usedPercent, t);
        return {
          status,
          details: {
            scope: sys.scope,
            usedPercent,
            usedBytes: sys.usedBytes,
            totalBytes: sys.totalBytes,
            process: {
              rssBytes: mem.rss,
              heapUsedBytes: mem.heapUsed,
              heapTotalBytes: mem.heapTotal,
              heapLimitBytes: heapLimit,
              heapUsedPercent: Math.round((mem.heapUsed / heapLimit) * 1000) / 10,
              externalBytes: mem.external,
            },
            thresholds: t,
          },
          error:
            status === 'healthy'
              ? null
              : `memory ${usedPercent}% used (${formatBytes(sys.usedBytes)} of ${formatBytes(sys.totalBytes)}, ${sys.scope}; ${status === 'unhealthy' ? 'critical' : 'warning'} threshold ${status === 'unhealthy' ? t.critical : t.warning}%)`,
        };
      },
    };
  },
};
