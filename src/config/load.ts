/** Loading `prodmon.yaml`: find the file, substitute env vars, validate once, resolve paths. */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { yamlModule } from '../core/lazy.js';
import { substituteEnv } from './env.js';
import { describeIssue } from './issues.js';
import { collectSecrets } from './mask.js';
import { type Config, configSchema } from './schema.js';

/** Defined with the other errors (the agent throws it without loading zod). */
export { ConfigError };

/** The validated config plus where things live on disk. */
export interface ResolvedConfig extends Config {
  /** The file the config came from (null: defaults only). */
  source: string | null;
  /** Absolute data directory. */
  dataDir: string;
  instanceId: string;
  paths: { db: string; logs: string; archive: string; pid: string };
  /** Every secret value in the config (tokens, passwords, webhook URLs), to scrub from any output. */
  secrets: string[];
}

/** How to find and adjust the config. */
export interface LoadOptions {
  /** Explicit file (`--config`); otherwise `PRODMON_CONFIG`, then `./prodmon.yaml` if present. */
  configPath?: string;
  /** `--data-dir`, wins over the file's `data_dir`. */
  dataDir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied over the file (e.g. `--port`); nested objects are merged. */
  overrides?: Record<string, unknown>;
  /**
   * Read only these fields (dotted paths such as `store` or `server.port`) and take defaults for the rest:
   * a command that needs little (`status`, `stop`) then works while a `${VAR}` it does not need is unset.
   */
  pick?: readonly string[];
}

/** Dotted path with indexes: `health.checks[0].url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** Only the fields at `paths` of a parsed document (the rest left out, so it takes its defaults). */
function pickFields(doc: unknown, paths: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    const keys = path.split('.');
    let from: unknown = doc;
    for (const k of keys)
      from = from && typeof from === 'object' ? (from as Record<string, unknown>)[k] : undefined;
    if (from === undefined) continue;
    let to = out;
    for (const k of keys.slice(0, -1)) {
      to[k] ??= {};
      to = to[k] as Record<string, unknown>;
    }
    to[keys[keys.length - 1]!] = from;
  }
  return out;
}

function deepMerge(base: unknown, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = base && typeof base === 'object' ? { ...(base as object) } : {};
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) ? deepMerge(out[k], v as Record<string, unknown>) : v;
  }
  return out;
}

/** Which file to read, or null for none. */
export function findConfigFile(opts: LoadOptions): string | null {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const explicit = opts.configPath ?? env.PRODMON_CONFIG;
  if (explicit) return resolve(cwd, explicit);
  const local = resolve(cwd, 'prodmon.yaml');
  return existsSync(local) ? local : null;
}

/** Reads, substitutes and validates the config; throws {@link ConfigError} naming every problem. */
export function loadConfig(opts: LoadOptions = {}): ResolvedConfig {
  const file = findConfigFile(opts);
  let doc: unknown = {};
  let label = 'config';
  if (file) {
    label = file;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError([
        `${file}: cannot read the config file (${code === 'ENOENT' ? 'no such file' : code})`,
      ]);
    }
    const parsed = yamlModule().parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (parsed.errors.length > 0) throw new ConfigError([yamlProblem(file, text, parsed.errors[0]!)]);
    doc = parsed.toJS() ?? {};
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      throw new ConfigError([
        `${file}: expected a mapping of sections (server, store, health...) at the top`,
      ]);
    }
  }
  return parseConfig(doc, { ...opts, label, source: file });
}

/**
 * A YAML syntax error as `file:line:col: invalid YAML: what`, then the offending line and a caret under
 * the column (the yaml package's own excerpt sometimes shows the line before).
 */
export function yamlProblem(
  file: string,
  text: string,
  err: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] },
): string {
  const what = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const pos = err.linePos?.[0];
  if (!pos) return `${file}: invalid YAML: ${what}`;
  const lines = text.split(/\r?\n/);
  let n = pos.line;
  let col = pos.col;
  let where = '';
  if (lines.slice(n - 1).every((l) => l.trim() === '')) {
    // Reported past the last line (an unclosed bracket or quote): point after the last written character.
    while (n > 1 && (lines[n - 1] ?? '').trim() === '') n--;
    col = (lines[n - 1] ?? '').trimEnd().length + 1;
    where = ' (at the end of the file)';
  }
  const line = lines[n - 1] ?? '';
  const gutter = String(n);
  // Keep tabs in the caret line so the caret sits under the right character on a terminal.
  const pad = line.slice(0, col - 1).replace(/[^\t]/g, ' ');
  return (
    `${file}:${n}:${col}: invalid YAML: ${what}${where}\n` +
    `  ${gutter} | ${line}\n` +
    `  ${' '.repeat(gutter.length)} | ${pad}^`
  );
}

/** Validates an already-parsed config document (for the embedded form: `createMonitor({...})`). */
export function parseConfig(
  doc: unknown,
  opts: LoadOptions & { label?: string; source?: string | null } = {},
): ResolvedConfig {
  const label = opts.label ?? 'config';
  const env = opts.env ?? process.env;
  const envProblems: { path: (string | number)[]; message: string }[] = [];
  const fields = opts.pick ? pickFields(doc, opts.pick) : (doc ?? {});
  let raw = substituteEnv(fields, env, envProblems) as Record<string, unknown>;
  if (opts.overrides) raw = deepMerge(raw, opts.overrides);
  const problems = envProblems.map((p) => `${label}: ${formatPath(p.path)}: ${p.message}`);
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    // A field whose env var is missing is reported once, as that, not again as a wrong value.
    const envPaths = new Set(envProblems.map((p) => formatPath(p.path)));
    problems.push(
      ...issueLines(
        label,
        result.error.issues.filter((i) => !envPaths.has(formatPath(i.path))),
      ),
    );
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return resolveConfig(result.data, opts);
}

function issueLines(label: string, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((iss) => {
    const path = formatPath(iss.path);
    return `${label}: ${path ? `${path}: ` : ''}${describeIssue(iss)}`;
  });
}

function resolveConfig(config: Config, opts: LoadOptions & { source?: string | null }): ResolvedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const dataDir = resolve(cwd, opts.dataDir ?? config.data_dir ?? '.prodmon');
  const under = (p: string | undefined, fallback: string) =>
    p ? (isAbsolute(p) ? p : resolve(cwd, p)) : resolve(dataDir, fallback);
  const resolved: ResolvedConfig = {
    ...config,
    source: opts.source ?? null,
    dataDir,
    instanceId: config.instance ?? `${hostname()}-${process.pid}`,
    paths: {
      db: config.store.driver === 'sqlite' ? under(config.store.path, 'prodmon.db') : '',
      logs: under(config.logs.dir, 'logs'),
      archive: under(config.archive.dir, 'archive'),
      pid: resolve(dataDir, 'prodmon.pid'),
    },
  } as ResolvedConfig;
  // Not enumerable: the list never ends up in JSON, logs or printed config.
  Object.defineProperty(resolved, 'secrets', { value: collectSecrets(config), enumerable: false });
  return resolved;
}
