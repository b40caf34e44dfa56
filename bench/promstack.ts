/**
 * Prometheus + Alertmanager for the benchmarks that compare against them: installs the Debian packages
 * when missing, and runs each as a child process on a loopback port with its own temp data dir (never
 * on the packages' default ports 9090/9093, where a daemon started by the package may listen).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/support/receivers.js';
import { tempDir } from '../test/support/services.js';

const PROMETHEUS = '/usr/bin/prometheus';
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

/** Where a binary is on PATH, or null. */
function which(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

function version(bin: string): string {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown version';
}

/** The two binaries and their versions, or why they are not there. */
export type PromStack =
  | { ok: true; prometheus: string; alertmanager: string; versions: string }
  | { ok: false; reason: string };

/**
 * Finds prometheus and prometheus-alertmanager; when one is missing and this process is root, runs
 * `apt-get update && apt-get install -y prometheus prometheus-alertmanager` (Debian) first.
 */
export function ensurePromStack(log: (line: string) => void): PromStack {
  const find = () => ({
    prometheus: which('prometheus') ?? PROMETHEUS,
    alertmanager: which('prometheus-alertmanager') ?? ALERTMANAGER,
  });
  const present = () => which('prometheus') !== null && which('prometheus-alertmanager') !== null;
  if (!present()) {
    if (process.getuid?.() !== 0)
      return { ok: false, reason: 'not installed, and not root to apt-get install' };
    if (!which('apt-get')) return { ok: false, reason: 'not installed, and no apt-get on this machine' };
    log('installing prometheus and prometheus-alertmanager (apt-get) ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const opts = { env, encoding: 'utf8' as const, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 };
    const update = spawnSync('apt-get', ['update'], opts);
    if (update.status !== 0) return { ok: false, reason: `apt-get update failed: ${tail(update.stderr)}` };
    const install = spawnSync('apt-get', ['install', '-y', 'prometheus', 'prometheus-alertmanager'], opts);
    if (install.status !== 0 || !present()) {
      return { ok: false, reason: `apt-get install failed: ${tail(install.stderr || install.stdout)}` };
    }
  }
  const bins = find();
  return {
    ok: true,
    ...bins,
    versions: `Prometheus ${version(bins.prometheus)}, Alertmanager ${version(bins.alertmanager)}`,
  };
}

const tail = (s: string | null | undefined) => (s ?? '').trim().split('\n').slice(-3).join(' / ');

/** A running Prometheus or Alertmanager. */
export interface Daemon {
  url: string;
  port: number;
  child: ChildProcess;
  /** Kills the process (SIGTERM, then SIGKILL after 5 s) and removes its data dir. */
  stop(): Promise<void>;
}

async function startDaemon(
  bin: string,
  files: Record<string, string>,
  args: (dir: string, port: number) => string[],
  name: string,
): Promise<Daemon> {
  const dir = tempDir(`prodmon-bench-${name}-`);
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
      throw new Error(
        `${name} exited with ${child.exitCode}: ${output.trim().split('\n').slice(-5).join(' / ')}`,
      );
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, port, child, stop };
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${name} not ready after 30 s: ${output.trim().split('\n').slice(-5).join(' / ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Settings of one Prometheus + Alertmanager pair; an unset interval keeps the built-in default. */
export interface PromSettings {
  /** `global.scrape_interval` (Prometheus' built-in default: 1m). */
  scrapeInterval?: string;
  /** `global.evaluation_interval` (built-in default: 1m). */
  evaluationInterval?: string;
  /** The route's `group_wait` (Alertmanager's default: 30s). */
  groupWait?: string;
  /** `group_by` of the route (Alertmanager's default: none, i.e. one group for all alerts). */
  groupBy?: string[];
}

/** Starts Alertmanager posting every alert to `webhookUrl`. */
export function startAlertmanager(bin: string, webhookUrl: string, s: PromSettings): Promise<Daemon> {
  const route = [
    '  receiver: hook',
    ...(s.groupBy ? [`  group_by: [${s.groupBy.map((l) => `'${l}'`).join(', ')}]`] : []),
    ...(s.groupWait ? [`  group_wait: ${s.groupWait}`] : []),
  ];
  const config = [
    'route:',
    ...route,
    'receivers:',
    '  - name: hook',
    '    webhook_configs:',
    `      - url: '${webhookUrl}'`,
    '        send_resolved: true',
    '',
  ].join('\n');
  return startDaemon(
    bin,
    { 'alertmanager.yml': config },
    (dir, port) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    'alertmanager',
  );
}

/** Prometheus's command line: its config file and TSDB in `dir`, listening on `port`. */
const prometheusArgs = (dir: string, port: number) => [
  `--config.file=${join(dir, 'prometheus.yml')}`,
  `--storage.tsdb.path=${join(dir, 'data')}`,
  `--web.listen-address=127.0.0.1:${port}`,
  '--log.level=warn',
];

/** Starts Prometheus scraping `target` (host:port), with `rules` (a rule file's YAML), alerting to `am`. */
export function startPrometheus(
  bin: string,
  o: { target: string; rules: string; alertmanager: Daemon; settings: PromSettings },
): Promise<Daemon> {
  const global = [
    ...(o.settings.scrapeInterval ? [`  scrape_interval: ${o.settings.scrapeInterval}`] : []),
    ...(o.settings.evaluationInterval ? [`  evaluation_interval: ${o.settings.evaluationInterval}`] : []),
  ];
  const config = [
    ...(global.length > 0 ? ['global:', ...global] : []),
    'rule_files: [rules.yml]',
    'alerting:',
    '  alertmanagers:',
    `    - static_configs: [{ targets: ['127.0.0.1:${o.alertmanager.port}'] }]`,
    'scrape_configs:',
    '  - job_name: app',
    `    static_configs: [{ targets: ['${o.target}'] }]`,
    '',
  ].join('\n');
  return startDaemon(bin, { 'prometheus.yml': config, 'rules.yml': o.rules }, prometheusArgs, 'prometheus');
}

/** Resolves once Prometheus has scraped its target at least once (polls its targets API). */
export async function firstScrape(prom: Daemon, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const body = (await fetch(`${prom.url}/api/v1/targets`)
      .then((r) => r.json())
      .catch(() => null)) as { data?: { activeTargets?: { health: string }[] } } | null;
    if (body?.data?.activeTargets?.some((t) => t.health === 'up')) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Prometheus did not scrape its target within ${timeoutMs / 1000} s`);
}

/** Where `prometheus` is (PATH or the Debian package's path), or null when it is not installed. */
export function findPrometheus(): string | null {
  const bin = which('prometheus');
  if (bin) return bin;
  return spawnSync(PROMETHEUS, ['--version']).status === 0 ? PROMETHEUS : null;
}

/** The version of a Prometheus binary (`2.42.0`). */
export function prometheusVersion(bin: string): string {
  return version(bin);
}

/**
 * Starts Prometheus scraping `targets` (host:port each) every `scrapeInterval`, with no rules and its
 * default storage (TSDB in its own temp dir), on a free loopback port.
 */
export function startScrapingPrometheus(
  bin: string,
  targets: readonly string[],
  scrapeInterval: string,
): Promise<Daemon> {
  const config = [
    'global:',
    `  scrape_interval: ${scrapeInterval}`,
    'scrape_configs:',
    '  - job_name: app',
    `    static_configs: [{ targets: [${targets.map((t) => `'${t}'`).join(', ')}] }]`,
    '',
  ].join('\n');
  return startDaemon(bin, { 'prometheus.yml': config }, prometheusArgs, 'prometheus');
}
