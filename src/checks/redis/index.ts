/**
 * `redis` (node-redis): the read/write test — a unique key written with a TTL, read back, compared and
 * deleted — timed; server version, memory (INFO memory) and clients. One kept client, without reconnect
 * (`reconnectStrategy: false`): a failure drops it and the next run connects anew. The connection's socket
 * is tied to the signal of the run that opens it, so a timeout destroys it at once, connected or not.
 * `redis` is imported on the first run.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClientType } from 'redis';
import { formatBytes } from '../../core/format.js';
import type { CheckDefinition } from '../types.js';
import { abortable, latencyOutcome, monotonic, safeTarget, targetError } from '../util.js';
import { shape } from './options.js';

type Options = { url: string; key_prefix: string; latency_threshold?: number };

/** `field:value` lines of an INFO reply as numbers or strings. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** The `redis` kind. */
export const redisCheck: CheckDefinition<Options, Options & { latency_threshold: number }> = {
  kind: 'redis',
  shape,
  resolve: (spec, d) => ({ ...spec, latency_threshold: spec.latency_threshold ?? d.databaseLatency }),
  create(spec) {
    const threshold = spec.latency_threshold;
    const target = safeTarget(spec.url);
    let client: RedisClientType | null = null;
    const drop = () => {
      const c = client;
      client = null;
      if (c?.isOpen) c.destroy();
    };
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run(signal) {
        const details: Record<string, unknown> = { target };
        try {
          if (!client?.isReady) {
            drop();
            const { createClient } = await import('redis');
            signal.throwIfAborted(); // timed out during the import (a socket made with an aborted signal still connects)
            // The socket carries this run's signal, so the timeout destroys it even while it is connecting:
            // node-redis's destroy() only reaches a socket once it has connected, and one it missed then
            // finished connecting and stayed open on a server that never answered.
            const c = createClient({
              url: spec.url,
              disableOfflineQueue: true,
              socket: { connectTimeout: spec.timeout, reconnectStrategy: false, signal },
            }) as RedisClientType;
            c.on('error', () => {}); // errors surface through the commands; never crash the process
            client = c;
            await abortable(c.connect(), signal, drop);
          }
          const c = client!;
          const key = `${spec.key_prefix}${randomBytes(8).toString('hex')}`;
          const value = randomBytes(8).toString('hex');
          const ttl = Math.max(10_000, spec.timeout * 2);
          const t0 = monotonic();
          await abortable(c.set(key, value, { expiration: { type: 'PX', value: ttl } }), signal, drop);
          const read = await abortable(c.get(key), signal, drop);
          await abortable(c.del(key), signal, drop);
          const latency = monotonic() - t0;
          if (read !== value) {
            return {
              status: 'unhealthy' as const,
              details,
              error: `read/write test failed: wrote a key and read back ${read === null ? 'nothing' : 'another value'}`,
            };
          }
          details.readWrite = 'ok';
          const [server, memory, clients] = await abortable(
            Promise.all([c.info('server'), c.info('memory'), c.info('clients')]),
            signal,
            drop,
          );
          const s = parseInfo(server);
          const m = parseInfo(memory);
          const cl = parseInfo(clients);
          details.version = s.redis_version ?? null;
          const used = Number(m.used_memory);
          const max = Number(m.maxmemory);
          details.memory = {
            usedBytes: used,
            used: formatBytes(used),
            peakBytes: Number(m.used_memory_peak),
            rssBytes: Number(m.used_memory_rss),
            maxBytes: max || null,
            ...(max > 0 ? { usedPercent: Math.round((used / max) * 1000) / 10 } : {}),
            policy: m.maxmemory_policy ?? null,
            fragmentationRatio: Number(m.mem_fragmentation_ratio) || null,
          };
          details.connectedClients = Number(cl.connected_clients);
          return latencyOutcome(latency, threshold, details);
        } catch (err) {
          drop();
          if (signal.aborted) throw err;
          return { status: 'unhealthy', details, error: `Redis at ${target}: ${targetError(err)}` };
        }
      },
      async close() {
        const c = client;
        client = null;
        if (c?.isOpen) await c.close().catch(() => c.destroy());
      },
    };
  },
};
