/** Helpers for the health-check tests: free ports, a redis-server of the test's own, hung servers, TLS certs. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { buildChecks } from '../../src/checks/build.js';
import { runCheck } from '../../src/checks/runner.js';
import type { HealthCheck, SelfProbeSource } from '../../src/checks/types.js';
import { parseConfig, type ResolvedConfig } from '../../src/config/load.js';
import { type Clock, systemClock } from '../../src/core/clock.js';
import type { HealthCheckResult } from '../../src/core/types.js';

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Waits until `fn` is true (polling every 20 ms), failing after `timeoutMs`. */
export async function waitUntil(
  fn: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A redis-server of the test's own on `port` (no persistence); `stop()` kills it. */
export async function startRedis(port: number): Promise<{ port: number; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitUntil(() => tcpAccepts(port), 5000, `redis-server on ${port}`);
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
export async function hungServer(): Promise<{
  port: number;
  open: () => number;
  close: () => Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.resume(); // read and ignore what the client sends, so its close is seen
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    open: () => sockets.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
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
  const check = buildChecks(config, { clock, config, self: opts.self })[0]!;
  return { check, config, run: () => runCheck(check, { clock }) };
}
