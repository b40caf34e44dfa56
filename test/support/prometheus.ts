/**
 * Debian's Prometheus and promtool for tests and benchmarks: finding the binaries, and running
 * Prometheus as a child process on a free loopback port with its own temp dir (never on the package's
 * default port 9090, where a daemon started by the package may listen).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './receivers.js';
import { tempDir } from './services.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';

/** Where a binary is on PATH, or null. */
export function which(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** The version a binary prints with `--version` (`2.42.0`). */
export function binaryVersion(bin: string): string {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown version';
}

/** Where `name` is (PATH, else the Debian package's `fallback`), or null when it is not installed. */
function find(name: string, fallback: string): string | null {
  const bin = which(name);
  if (bin) return bin;
  return spawnSync(fallback, ['--version']).status === 0 ? fallback : null;
}

/** Where `prometheus` is (PATH or the Debian package's path), or null when it is not installed. */
export function findPrometheus(): string | null {
  return find('prometheus', PROMETHEUS);
}

/** Where `promtool` is (PATH or the Debian package's path), or null when it is not installed. */
export function findPromtool(): string | null {
  return find('promtool', PROMTOOL);
}

/** A running Prometheus (or Alertmanager). */
export interface Daemon {
  url: string;
  port: number;
  child: ChildProcess;
  /** Kills the process (SIGTERM, then SIGKILL after 5 s) and removes its data dir. */
  stop(): Promise<void>;
}

const lastLines = (s: string) => s.trim().split('\n').slice(-5).join(' / ');

/** Starts `bin` with `files` written to a temp dir, and waits (30 s at most) for its `/-/ready`. */
export async function startDaemon(
  bin: string,
  files: Record<string, string>,
  args: (dir: string, port: number) => string[],
  name: string,
): Promise<Daemon> {
  const dir = tempDir(`prodmon-${name}-`);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir.path, file), text);
  const port = await freePort();
  let output = '';
  const child = spawn(bin, args(dir.path, port), { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    dir.cleanup();
  };
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      dir.cleanup();
      throw new Error(`${name} exited with ${child.exitCode}: ${lastLines(output)}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, port, child, stop };
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${name} not ready after 30 s: ${lastLines(output)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Prometheus's command line: its config file and TSDB in `dir`, listening on `port`. */
export const prometheusArgs = (dir: string, port: number) => [
  `--config.file=${join(dir, 'prometheus.yml')}`,
  `--storage.tsdb.path=${join(dir, 'data')}`,
  `--web.listen-address=127.0.0.1:${port}`,
  '--log.level=warn',
];

/**
 * Starts Prometheus scraping `targets` (host:port each) every `scrapeInterval`, with its default
 * storage (TSDB in its own temp dir), on a free loopback port; with `rules` (a rule file's YAML), it
 * evaluates them every `scrapeInterval` too.
 */
export function startScrapingPrometheus(
  bin: string,
  targets: readonly string[],
  scrapeInterval: string,
  opts: { rules?: string } = {},
): Promise<Daemon> {
  const config = [
    'global:',
    `  scrape_interval: ${scrapeInterval}`,
    ...(opts.rules ? [`  evaluation_interval: ${scrapeInterval}`, 'rule_files: [rules.yml]'] : []),
    'scrape_configs:',
    '  - job_name: app',
    `    static_configs: [{ targets: [${targets.map((t) => `'${t}'`).join(', ')}] }]`,
    '',
  ].join('\n');
  const files: Record<string, string> = { 'prometheus.yml': config };
  if (opts.rules) files['rules.yml'] = opts.rules;
  return startDaemon(bin, files, prometheusArgs, 'prometheus');
}

/** Resolves once Prometheus has scraped its target at least once (polls its targets API). */
export async function firstScrape(prom: Daemon, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < end) {
    const body = (await fetch(`${prom.url}/api/v1/targets`)
      .then((r) => r.json())
      .catch(() => null)) as { data?: { activeTargets?: { health: string; lastError?: string }[] } } | null;
    const targets = body?.data?.activeTargets ?? [];
    if (targets.some((t) => t.health === 'up')) return;
    last = targets.map((t) => t.lastError).find(Boolean) ?? last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `Prometheus did not scrape its target within ${timeoutMs / 1000} s${last ? ` (last error: ${last})` : ''}`,
  );
}

/** One series of an instant query's result. */
export interface PromVectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Runs an instant query through Prometheus's HTTP API; throws with Prometheus's error when it fails. */
export async function instantQuery(prom: Daemon, query: string): Promise<PromVectorSample[]> {
  const res = await fetch(`${prom.url}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: PromVectorSample[] | [number, string] };
  };
  if (body.status !== 'success') throw new Error(`query ${query} failed: ${body.error ?? res.status}`);
  const { resultType, result } = body.data!;
  if (resultType === 'scalar') return [{ metric: {}, value: result as [number, string] }];
  return result as PromVectorSample[];
}
