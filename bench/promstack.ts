/**
 * Prometheus + Alertmanager for the benchmarks that compare against them: installs the Debian packages
 * when missing, and runs each as a child process on a loopback port with its own temp data dir (never
 * on the packages' default ports 9090/9093, where a daemon started by the package may listen).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  binaryVersion,
  type Daemon,
  prometheusArgs,
  startDaemon,
  which,
} from '../test/support/prometheus.js';

export {
  type Daemon,
  findPrometheus,
  firstScrape,
  startScrapingPrometheus,
} from '../test/support/prometheus.js';

const PROMETHEUS = '/usr/bin/prometheus';
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

const version = binaryVersion;

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

/** The version of a Prometheus binary (`2.42.0`). */
export function prometheusVersion(bin: string): string {
  return version(bin);
}
