/** The memory limit and usage of this process's cgroup (v2 `memory.max`/`memory.current`, v1 equivalents). */
import { readFile } from 'node:fs/promises';

/** A limit at or above this is "no limit" (v1 writes ~2^63, constrainedMemory() ~2^64). */
export const NO_LIMIT = 2 ** 60;

/** Memory of a cgroup that has a limit. */
export interface CgroupMemory {
  version: 1 | 2;
  limitBytes: number;
  /** Usage without reclaimable page cache (inactive_file), as `docker stats` shows it. */
  usedBytes: number;
}

async function read(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

function statField(stat: string | null, field: string): number {
  const m = stat ? new RegExp(`^${field} (\\d+)$`, 'm').exec(stat) : null;
  return m ? Number(m[1]) : 0;
}

function limited(limit: string | null): number | null {
  if (!limit || limit === 'max') return null;
  const n = Number(limit);
  return Number.isFinite(n) && n > 0 && n < NO_LIMIT ? n : null;
}

/**
 * Reads the cgroup memory limit and usage, or null when there is no limit. `root` is the cgroup mount
 * (`/sys/fs/cgroup`), `selfCgroup` the text of `/proc/self/cgroup` (both injectable for tests).
 */
export async function cgroupMemory(
  root = '/sys/fs/cgroup',
  selfCgroup?: string | null,
): Promise<CgroupMemory | null> {
  const lines = (selfCgroup === undefined ? await read('/proc/self/cgroup') : selfCgroup) ?? '';
  const v2Path = /^0::(.*)$/m.exec(lines)?.[1];
  const v1Path = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(lines)?.[1];

  // v2: the process's own cgroup, then the namespace root.
  for (const dir of unique([v2Path ? `${root}${v2Path}` : null, root])) {
    const limit = limited(await read(`${dir}/memory.max`));
    const current = await read(`${dir}/memory.current`);
    if (limit && current !== null) {
      const used = Number(current) - statField(await read(`${dir}/memory.stat`), 'inactive_file');
      return { version: 2, limitBytes: limit, usedBytes: Math.max(0, used) };
    }
  }
  // v1
  for (const dir of unique([v1Path ? `${root}/memory${v1Path}` : null, `${root}/memory`])) {
    const limit = limited(await read(`${dir}/memory.limit_in_bytes`));
    const usage = await read(`${dir}/memory.usage_in_bytes`);
    if (limit && usage !== null) {
      const used = Number(usage) - statField(await read(`${dir}/memory.stat`), 'total_inactive_file');
      return { version: 1, limitBytes: limit, usedBytes: Math.max(0, used) };
    }
  }
  return null;
}

function unique(dirs: (string | null)[]): string[] {
  return [...new Set(dirs.filter((d): d is string => !!d).map((d) => d.replace(/\/+$/, '')))];
}
