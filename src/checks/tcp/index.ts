/** `tcp`: a TCP connection to host:port, timed; `degraded` above `latency_threshold` when one is set. */
import { connect, type Socket } from 'node:net';
import type { CheckDefinition } from '../types.js';
import { abortable, latencyOutcome, monotonic, round1, targetError } from '../util.js';
import { shape } from './options.js';

type Options = { host: string; port: number; latency_threshold?: number };

/** The `tcp` kind. */
export const tcpCheck: CheckDefinition<Options> = {
  kind: 'tcp',
  shape,
  create(spec) {
    const target = `${spec.host}:${spec.port}`;
    return {
      name: spec.name,
      kind: spec.kind,
      critical: spec.critical,
      timeout: spec.timeout,
      async run(signal) {
        const t0 = monotonic();
        let sock: Socket | null = null;
        try {
          await abortable(
            new Promise<void>((resolve, reject) => {
              sock = connect({ host: spec.host, port: spec.port });
              sock.once('connect', () => resolve());
              sock.once('error', reject);
            }),
            signal,
            () => sock?.destroy(),
          );
        } catch (err) {
          (sock as Socket | null)?.destroy();
          if (signal.aborted) throw err;
          return { status: 'unhealthy', details: { target }, error: `TCP ${target}: ${targetError(err)}` };
        }
        const latency = monotonic() - t0;
        (sock as Socket | null)?.destroy();
        if (spec.latency_threshold === undefined) {
          return { status: 'healthy', details: { target, latencyMs: round1(latency) } };
        }
        return latencyOutcome(latency, spec.latency_threshold, { target });
      },
    };
  },
};
