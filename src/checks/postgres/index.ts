/**
 * `postgres`: one kept connection (reconnected after a failure), `select 1` timed, server version and
 * connection figures. `degraded` above the latency threshold (default `database_query_time` warning).
 * `pg` is imported on the first run, never when the config loads.
 */
import type pg from 'pg';
import type { CheckDefinition } from '../types.js';
import { abortable, latencyOutcome, monotonic, safeTarget, targetError } from '../util.js';
import { shape } from './options.js';

type Options = { url: string; latency_threshold?: number };

/** The `postgres` kind. */
export const postgresCheck: CheckDefinition<Options, Options & { latency_threshold: number }> = {
  kind: 'postgres',
  shape,
  resolve: (spec, d) => ({ ...spec, latency_threshold: spec.latency_threshold ?? d.databaseLatency }),
  create(spec) {
    const threshold = spec.latency_threshold;
    const target = safeTarget(spec.url);
    let client: pg.Client | null = null;
    let version: string | null = null;
    // After a failure or an abort: end the client and destroy its socket (end() alone waits on a hung server).
    const drop = () => {
      const c = client;
      client = null;
      version = null;
      if (!c) return;
      c.end().catch(() => {});
      (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    };
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run(signal) {
        const details: Record<string, unknown> = { target };
        try {
          if (!client) {
            const { default: PG } = await import('pg');
            signal.throwIfAborted(); // timed out during the import: open nothing
            const c = new PG.Client({ connectionString: spec.url, connectionTimeoutMillis: spec.timeout });
            c.on('error', () => client === c && drop()); // lost between runs: reconnect on the next one
            client = c;
            await abortable(c.connect(), signal, drop);
          }
          const c = client;
          const t0 = monotonic();
          await abortable(c.query('select 1'), signal, drop);
          const latency = monotonic() - t0;
          if (!version) {
            const v = await abortable(
              c.query<{ v: string }>("select current_setting('server_version') as v"),
              signal,
              drop,
            );
            version = v.rows[0]?.v ?? null;
          }
          details.version = version;
          try {
            const s = await abortable(
              c.query<{ connections: string; max: string }>(
                "select count(*)::text as connections, current_setting('max_connections') as max from pg_stat_activity",
              ),
              signal,
              drop,
            );
            details.connections = Number(s.rows[0]?.connections);
            details.maxConnections = Number(s.rows[0]?.max);
          } catch (err) {
            if (signal.aborted) throw err;
            // Figures need rights the check's user may lack; the server answered, which is what counts.
          }
          return latencyOutcome(latency, threshold, details);
        } catch (err) {
          drop();
          if (signal.aborted) throw err;
          return { status: 'unhealthy', details, error: `PostgreSQL at ${target}: ${targetError(err)}` };
        }
      },
      async close() {
        const c = client;
        client = null;
        await c?.end().catch(() => {});
      },
    };
  },
};
