/**
 * The option schemas of the check kinds, without their implementations (no drivers, no I/O): what the
 * config validates `health.checks` entries against. The registry (src/checks/registry.ts) lists the same
 * kinds with their implementations.
 */
import type { PluginShape } from '../config/plugin-list.js';
import { shape as cpu } from './cpu/options.js';
import { shape as disk } from './disk/options.js';
import { shape as eventLoop } from './event_loop/options.js';
import { shape as http } from './http/options.js';
import { shape as memory } from './memory/options.js';
import { shape as mysql } from './mysql/options.js';
import { shape as postgres } from './postgres/options.js';
import { shape as redis } from './redis/options.js';
import { shape as sqlite } from './sqlite/options.js';
import { shape as tcp } from './tcp/options.js';

export const CHECK_OPTIONS: readonly PluginShape[] = [
  { kind: 'postgres', shape: postgres },
  { kind: 'mysql', shape: mysql },
  { kind: 'sqlite', shape: sqlite },
  { kind: 'redis', shape: redis },
  { kind: 'disk', shape: disk },
  { kind: 'memory', shape: memory },
  { kind: 'cpu', shape: cpu },
  { kind: 'event_loop', shape: eventLoop },
  { kind: 'http', shape: http },
  { kind: 'tcp', shape: tcp },
  { kind: 'self', shape: {} },
];
