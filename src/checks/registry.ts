/** The check kinds prodmon knows: one line per kind. Drivers load lazily, inside each check's run. */
import { cpuCheck } from './cpu/index.js';
import { diskCheck } from './disk/index.js';
import { eventLoopCheck } from './event_loop/index.js';
import { httpCheck } from './http/index.js';
import { memoryCheck } from './memory/index.js';
import { mysqlCheck } from './mysql/index.js';
import { postgresCheck } from './postgres/index.js';
import { redisCheck } from './redis/index.js';
import { selfCheck } from './self/index.js';
import { sqliteCheck } from './sqlite/index.js';
import { tcpCheck } from './tcp/index.js';
import type { CheckDefinition } from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: each definition has its own option type
export const CHECK_KINDS: readonly CheckDefinition<any>[] = [
  postgresCheck,
  mysqlCheck,
  sqliteCheck,
  redisCheck,
  diskCheck,
  memoryCheck,
  cpuCheck,
  eventLoopCheck,
  httpCheck,
  tcpCheck,
  selfCheck,
];

/** The definition of a kind, or undefined. */
export function checkKind(kind: string): CheckDefinition | undefined {
  return CHECK_KINDS.find((d) => d.kind === kind);
}
