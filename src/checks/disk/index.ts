/** `disk`: used % and free bytes of each path's file system (fs.statfs), against the `disk_usage` thresholds. */
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { formatBytes } from '../../core/format.js';
import type { HealthStatus } from '../../domain/health.js';
import { worstStatus } from '../../domain/health.js';
import type { CheckDefinition, Levels } from '../types.js';
import { levelOf, thresholdsOf } from '../util.js';
import { shape } from './options.js';

/** Figures of one path's file system. */
export interface DiskFigures {
  path: string;
  /** The existing directory measured (the path itself, or its nearest existing parent). */
  measured: string;
  usedPercent: number;
  freeBytes: number;
  totalBytes: number;
}

/** Disk usage like `df`: used / (used + available to unprivileged users); walks up to an existing directory. */
export async function diskFigures(path: string): Promise<DiskFigures> {
  let p = resolve(path);
  for (;;) {
    try {
      const s = await statfs(p);
      const used = (s.blocks - s.bfree) * s.bsize;
      const avail = s.bavail * s.bsize;
      const usedPercent = used + avail > 0 ? (used / (used + avail)) * 100 : 0;
      return {
        path,
        measured: p,
        usedPercent: Math.round(usedPercent * 10) / 10,
        freeBytes: avail,
        totalBytes: s.blocks * s.bsize,
      };
    } catch (err) {
      const parent = dirname(p);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) throw err;
      p = parent;
    }
  }
}

type Options = { paths?: string[]; thresholds?: { warning?: number; critical?: number } };

/** The `disk` kind. */
export const diskCheck: CheckDefinition<Options, Options & { paths: string[]; thresholds: Levels }> = {
  kind: 'disk',
  shape,
  resolve: (spec, d) => ({
    ...spec,
    paths: spec.paths ?? [d.dataDir],
    thresholds: thresholdsOf(spec.thresholds, d.disk),
  }),
  create(spec) {
    const paths = spec.paths;
    const t = spec.thresholds;
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run() {
        const statuses: HealthStatus[] = [];
        const problems: string[] = [];
        const figures: Record<string, unknown>[] = [];
        for (const path of paths) {
          try {
            const f = await diskFigures(path);
            const level = levelOf(f.usedPercent, t);
            statuses.push(level);
            figures.push({ ...f, status: level });
            if (level !== 'healthy') {
              problems.push(
                `${path} is ${f.usedPercent}% full, ${formatBytes(f.freeBytes)} free (${level === 'unhealthy' ? 'critical' : 'warning'} threshold ${level === 'unhealthy' ? t.critical : t.warning}%)`,
              );
            }
          } catch (err) {
            statuses.push('unhealthy');
            figures.push({ path, status: 'unhealthy' });
            problems.push(
              `${path}: cannot read the file system (${(err as NodeJS.ErrnoException).code ?? err})`,
            );
          }
        }
        return {
          status: worstStatus(statuses),
          details: { paths: figures, thresholds: t },
          error: problems.length > 0 ? problems.join('; ') : null,
        };
      },
    };
  },
};
