/**
 * The agent: prodmon's instrumentation alone, for app processes that report to a standalone prodmon
 * (`import { createAgent } from 'prodmon/agent'`). It records requests, queries and the process's
 * system figures exactly as an embedded monitor does (same adapters, rollups and sketches) and pushes
 * its rollups to the standalone prodmon's `POST /production/ingest`, which stores them, alerts on them
 * and shows them. Nothing else runs in the app's process: no store, no health checks, no alerting, no
 * HTTP routes, no log files.
 *
 * Why a second entry: a whole embedded monitor costs memory before the first request (the code of zod
 * and the config schemas, Kysely, SQLite, prom-client; see docs/benchmarks.md), which a process that only
 * needs to be measured (a cluster worker, one of many replicas) should not pay. This module's graph
 * holds none of those packages (src/agent.test.ts checks it), options are checked by hand, and the
 * push goes through node:http rather than the global fetch (whose first use loads undici).
 */
import { type Clock, systemClock } from './core/clock.js';
import { type AgentOptions, checkAgentOptions } from './metrics/agent-options.js';
import { Instrumentation, type MetricsLog } from './metrics/instrumentation.js';

export type { Clock } from './core/clock.js';
export { ConfigError, ProdmonError } from './core/errors.js';
export type { Labels } from './domain/labels.js';
export type { WrapOptions } from './instrument/node-http.js';
export type { QueryLabels } from './instrument/query-timer.js';
export type { SqlOperation } from './instrument/sql.js';
export type { AgentOptions } from './metrics/agent-options.js';
export type { MetricsLog } from './metrics/instrumentation.js';

/** What the agent can be given besides its options (tests and special setups). */
export interface AgentRuntime {
  clock?: Clock;
  /** Where push and sampling failures are reported (default: a line on stderr, once per kind). */
  log?: MetricsLog;
  /** Monotonic ms for request and query durations (default performance.now). */
  hrtime?: () => number;
  /** Push transport (default node:http/https). */
  fetch?: typeof fetch;
}

/**
 * The agent of one app process. Mount its adapters as an embedded monitor's (`app.use(agent.middleware())`,
 * `fastify.register(agent.fastifyPlugin)`, `agent.koa()`, `agent.wrap(handler)`, `agent.instrumentPg(pool)`,
 * `agent.timeQuery(...)`), call `start()` once, and `stop()` at shutdown (it pushes what is left).
 */
class Agent extends Instrumentation {}

export type { Agent };

/**
 * Where an agent reports its own trouble unless given a logger: one line on stderr per kind of
 * failure (a push that fails keeps failing quietly until it works again or fails differently).
 */
const stderrLog: MetricsLog = {
  warn: (obj, msg) => process.stderr.write(`prodmon agent: ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`prodmon agent: ${msg} ${JSON.stringify(obj)}\n`),
};

/** Creates an agent; throws a ConfigError naming every bad option. */
export function createAgent(options: AgentOptions, runtime: AgentRuntime = {}): Agent {
  const checked = checkAgentOptions(options);
  return new Agent({
    ...checked,
    clock: runtime.clock ?? systemClock,
    log: runtime.log ?? stderrLog,
    hrtime: runtime.hrtime,
    fetch: runtime.fetch,
  });
}
