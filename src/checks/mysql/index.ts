/**
 * `mysql` (MySQL and MariaDB, through mysql2): one kept connection (reconnected after a failure), `select 1`
 * timed, server version and thread figures. `degraded` above the latency threshold (default
 * `database_query_time` warning). `mysql2` is imported on the first run.
 */
import type { Connection } from 'mysql2';
import type { CheckDefinition } from '../types.js';
import { abortable, latencyOutcome, monotonic, safeTarget, targetError } from '../util.js';
import { shape } from './options.js';

type Options = { url: string; latency_threshold?: number };

function query<T>(conn: Connection, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    conn.query(sql, (err, rows) => (err ? reject(err) : resolve(rows as T[])));
  });
}

/** The `mysql` kind. */
export const mysqlCheck: CheckDefinition<Options, Options & { latency_threshold: number }> = {
  kind: 'mysql',
  shape,
  resolve: (spec, d) => ({ ...spec, latency_threshold: spec.latency_threshold ?? d.databaseLatency }),
  create(spec) {
    const threshold = spec.latency_threshold;
    const target = safeTarget(spec.url);
    let conn: Connection | null = null;
    const drop = () => {
      const c = conn;
      conn = null;
      c?.destroy();
    };
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run(signal) {
        const details: Record<string, unknown> = { target };
        try {
          if (!conn) {
            const mysql = await import('mysql2');
            signal.throwIfAborted(); // timed out during the import: open nothing
            const c = mysql.createConnection({ uri: spec.url, connectTimeout: spec.timeout });
            c.on('error', () => {
              if (conn === c) conn = null; // lost between runs: reconnect on the next one
            });
            conn = c;
            await abortable(
              new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve()))),
              signal,
              drop,
            );
          }
          const c = conn!;
          const t0 = monotonic();
          await abortable(query(c, 'select 1'), signal, drop);
          const latency = monotonic() - t0;
          const [info] = await abortable(
            query<{ version: string; max: number }>(
              c,
              'select version() as version, @@max_connections as max',
            ),
            signal,
            drop,
          );
          details.version = info?.version ?? null;
          details.maxConnections = info ? Number(info.max) : null;
          try {
            const rows = await abortable(
              query<{ Variable_name: string; Value: string }>(
                c,
                "show global status where Variable_name in ('Threads_connected', 'Threads_running')",
              ),
              signal,
              drop,
            );
            for (const r of rows) {
              if (r.Variable_name === 'Threads_connected') details.connections = Number(r.Value);
              if (r.Variable_name === 'Threads_running') details.running = Number(r.Value);
            }
          } catch (err) {
            if (signal.aborted) throw err;
          }
          return latencyOutcome(latency, threshold, details);
        } catch (err) {
          drop();
          if (signal.aborted) throw err;
          return { status: 'unhealthy', details, error: `MySQL at ${target}: ${targetError(err)}` };
        }
      },
      async close() {
        const c = conn;
        conn = null;
        if (c) await new Promise<void>((r) => c.end(() => r())).catch(() => c.destroy());
      },
    };
  },
};
