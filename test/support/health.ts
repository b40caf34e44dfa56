/** Helpers for the health-check tests: free ports, a redis-server of the test's own, hung servers, TLS certs. */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { buildChecks } from '../../src/checks/build.js';
import { CheckTimeoutError, runCheck } from '../../src/checks/runner.js';
import type { HealthCheck, SelfProbeSource } from '../../src/checks/types.js';
import { parseConfig, type ResolvedConfig } from '../../src/config/load.js';
import { type Clock, systemClock } from '../../src/core/clock.js';
import type { HealthCheckResult } from '../../src/domain/health.js';
import { waitFor } from './wait.js';

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A redis-server of the test's own on `port` (no persistence); `stop()` kills it. */
export async function startRedis(port: number): Promise<{ port: number; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(() => tcpAccepts(port), { what: `redis-server on ${port}` });
  return {
    port,
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A TCP server that accepts connections and never answers (a hung dependency); counts open sockets. */
export interface HungServer {
  port: number;
  /** Connections accepted and not yet closed. */
  open: () => number;
  /** Connections accepted so far. */
  accepted: () => number;
  /**
   * Resolves once every connection the server accepted has closed (its `close` event), at least `atLeast`
   * of them; rejects when some are still open at `deadline` (a `performance.now()` time). With
   * `atLeast: 0` it always waits for the deadline, so a connection that arrives late is seen too.
   * Closes already under way at the deadline count: a probe connection is accepted first (the listen
   * queue is in order, so every connection made before it has been accepted), then the events the same
   * turn delivered are let through.
   */
  allClosedBy: (deadline: number, atLeast?: number) => Promise<void>;
  close: () => Promise<void>;
}

export async function hungServer(): Promise<HungServer> {
  const sockets = new Set<Socket>();
  const changed = new EventEmitter();
  let accepted = 0;
  let probePort = -1;
  const server: Server = createServer((s) => {
    if (s.remotePort === probePort) {
      changed.emit('probe');
      s.destroy();
      return;
    }
    accepted++;
    sockets.add(s);
    s.on('close', () => {
      sockets.delete(s);
      changed.emit('change');
    });
    s.on('error', () => {});
    s.on('end', () => s.destroy()); // the client closed its side: close ours at once (no half-open wait)
    s.resume(); // read and ignore what the client sends, so its close is seen
    changed.emit('change');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;

  /** Waits until a fresh connection is accepted: every connection made before it has been seen. */
  const probe = async (): Promise<void> => {
    const c = connect({ host: '127.0.0.1', port });
    c.on('error', () => {});
    await new Promise<void>((r) => c.once('connect', r));
    const seen = new Promise<void>((r) => changed.once('probe', r));
    probePort = c.localPort ?? -1;
    // Accepted before its port was known: the probe connection is in `sockets`; treat it as the probe.
    for (const s of sockets) {
      if (s.remotePort === probePort) {
        sockets.delete(s);
        accepted--;
        s.destroy();
        changed.emit('probe');
      }
    }
    await seen;
    c.destroy();
    await new Promise((r) => setImmediate(r)); // the rest of that turn's events (closes read with it)
  };

  return {
    port,
    open: () => sockets.size,
    accepted: () => accepted,
    allClosedBy(deadline, atLeast = 1) {
      return new Promise<void>((resolve, reject) => {
        const done = () => accepted >= atLeast && sockets.size === 0;
        const onChange = () => {
          if (atLeast > 0 && done()) finish();
        };
        const finish = (err?: Error) => {
          clearTimeout(timer);
          changed.off('change', onChange);
          if (err) reject(err);
          else resolve();
        };
        const timer = setTimeout(
          () => {
            changed.off('change', onChange);
            const late = Math.round(performance.now() - deadline);
            probe().then(() => {
              if (done()) finish();
              else {
                finish(
                  new Error(
                    `${sockets.size} of ${accepted} accepted connection(s) still open at the deadline (checked ${late} ms after it)` +
                      (accepted < atLeast ? `; expected at least ${atLeast}` : ''),
                  ),
                );
              }
            }, finish);
          },
          Math.max(0, deadline - performance.now()),
        );
        changed.on('change', onChange);
        onChange();
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** How long after its timeout a timed-out check may still hold a connection (the server must see it close). */
export const CLOSE_MARGIN_MS = 100;

/**
 * Runs the check `spec(port)` once, with a `timeoutMs` timeout, against a server that accepts and never
 * answers; the server must see every connection close by the run's start + timeout + {@link CLOSE_MARGIN_MS},
 * or by the run's return if that is later
 * (and at least one connection is made). Returns the run's result.
 *
 * A loaded machine can stall the process past the timeout before the check has even connected: that run
 * times out with nothing to close and proves nothing, so it is made again (at most 3 runs in all).
 */
export async function runAgainstHungServer(
  spec: (port: number) => Record<string, unknown>,
  timeoutMs = 300,
): Promise<HealthCheckResult> {
  for (let attempt = 1; ; attempt++) {
    const hung = await hungServer();
    const { check, run } = checkFrom({ ...spec(hung.port), timeout: `${timeoutMs}ms` });
    try {
      const started = performance.now();
      const r = await run();
      try {
        // Checked once the run has returned (on a loaded machine the run's own timer fires late, and
        // its close with it), and no earlier than the timeout and the margin after the start.
        await hung.allClosedBy(Math.max(started + timeoutMs + CLOSE_MARGIN_MS, performance.now()), 1);
        return r;
      } catch (err) {
        if (hung.accepted() > 0 || attempt === 3) throw err;
      }
    } finally {
      await check.close?.();
      await hung.close();
    }
  }
}

/**
 * Runs the check `spec(port)` once against a server that accepts and never answers, aborting the run's
 * signal as its timeout would, at one of two moments:
 * - `'before'`: before the run starts, as when the timeout passes before the check has connected (a slow
 *   first import of the driver, a loaded machine);
 * - `'connecting'`: right after the check creates its client socket, before that socket has connected.
 *   The creation is seen on the `net.client.socket` diagnostics channel (sockets made through
 *   `net.connect`), and the abort comes in the next microtask, ahead of the event-loop turn that reports
 *   the connection made.
 *
 * The run must reject, and {@link CLOSE_MARGIN_MS} after it started every connection the server saw must
 * be closed (one that connects later and stays open fails).
 */
export async function runAbortedAgainstHungServer(
  spec: (port: number) => Record<string, unknown>,
  when: 'before' | 'connecting',
): Promise<void> {
  const hung = await hungServer();
  const { check } = checkFrom({ ...spec(hung.port), timeout: '300ms' });
  const ctl = new AbortController();
  const timedOut = () => ctl.abort(new CheckTimeoutError(300));
  let created = 0;
  const onSocket = () => {
    if (created++ === 0) queueMicrotask(timedOut);
  };
  if (when === 'before') timedOut();
  else diagnostics.subscribe('net.client.socket', onSocket);
  try {
    const started = performance.now();
    await assert.rejects(check.run(ctl.signal));
    if (when === 'connecting') assert.ok(created >= 1, 'the check made a client socket');
    await hung.allClosedBy(started + CLOSE_MARGIN_MS, 0);
  } finally {
    if (when === 'connecting') diagnostics.unsubscribe('net.client.socket', onSocket);
    await check.close?.();
    await hung.close();
  }
}

/** A self-signed certificate for 127.0.0.1 valid for `days` days (openssl), written under `dir`. */
export function selfSignedCert(dir: string, days: number): { key: string; cert: string; certPath: string } {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      String(days),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath };
}

/** One check built from a config entry, as prodmon builds it (validated, defaults applied). */
export function checkFrom(
  spec: Record<string, unknown>,
  opts: { clock?: Clock; config?: Record<string, unknown>; self?: SelfProbeSource } = {},
): { check: HealthCheck; config: ResolvedConfig; run: () => Promise<HealthCheckResult> } {
  const config = parseConfig(
    { ...opts.config, health: { builtin_checks: false, checks: [spec] } },
    { env: {}, dataDir: '/tmp/prodmon-health-test' },
  );
  const clock = opts.clock ?? systemClock;
  const check = buildChecks(config, { clock, self: opts.self })[0]!;
  return { check, config, run: () => runCheck(check, { clock }) };
}
