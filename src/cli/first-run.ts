/**
 * First-run sign-in: a standalone `prodmon start` with no way to sign in configured (no `auth.tokens`,
 * no `auth.users`) makes a random admin token, so the dashboard it serves can be opened. The token is
 * kept in the data directory in a file only its owner can read (0600) and used by every later start
 * while no auth is configured; `start` prints it once, beside the dashboard URL, the first time, and
 * only where the file is afterwards. It never reaches a log: it is printed straight to the terminal,
 * and, like every token of the config, it is scrubbed from anything logged.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/load.js';

/** The token file, in the data directory. */
export const FIRST_RUN_FILE = 'first-run-token';
/** The name the token signs in as (shown in the dashboard and the audit log). */
export const FIRST_RUN_NAME = 'first-run';

/** The first-run token of a data directory. */
export interface FirstRunSignIn {
  token: string;
  file: string;
  /** Made by this start (printed now, once) rather than read from the file. */
  created: boolean;
}

const VALID = /^[\w-]{32,}$/;

/**
 * The first-run token when `config` has no way to sign in (null otherwise): read from the data
 * directory, or made and written there (0600) when there is none yet. The data directory must exist.
 */
export function firstRunSignIn(config: ResolvedConfig): FirstRunSignIn | null {
  if (config.auth.tokens.length > 0 || config.auth.users.length > 0) return null;
  const file = join(config.dataDir, FIRST_RUN_FILE);
  let existing = '';
  try {
    existing = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (VALID.test(existing)) {
    // Copied or restored with wider permissions: only the owner may read it.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { token: existing, file, created: false };
  }
  const token = `pm_${randomBytes(32).toString('base64url')}`;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600); // whatever the umask
  renameSync(tmp, file);
  return { token, file, created: true };
}

/** The config entry that lets the token sign in (as an admin) and call the API. */
export function firstRunToken(s: FirstRunSignIn) {
  return { name: FIRST_RUN_NAME, token: s.token, role: 'admin' as const };
}

/** What `start` prints about it, under the dashboard URL. */
export function firstRunLines(s: FirstRunSignIn): string {
  if (!s.created)
    return `sign in with the admin token in ${s.file} (no auth.tokens or auth.users are configured)\n`;
  return (
    `first run: no auth.tokens or auth.users are configured, so an admin token was made to open the\n` +
    `dashboard with (shown this once; kept in ${s.file}, readable by you only):\n` +
    `  ${s.token}\n`
  );
}
