/**
 * Running the real `prodmon` CLI in a child process: the sources as the package bundles them
 * (test/support/build.ts), so a command costs its own work and not tsx loading 400 modules.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundled } from './build.js';
import { waitFor } from './wait.js';

/** Absolute path of the CLI entry in the sources. */
export const CLI = fileURLToPath(new URL('../../src/cli/run.ts', import.meta.url));

/** How a finished command ended. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns `prodmon ...args`. */
export function spawnCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, [bundled('src/cli/run.ts'), ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Kills `child` (SIGKILL) if it has not ended: for `t.after` or a `finally`, so that a test that fails
 * half-way leaves no process behind.
 */
export function killIfRunning(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Collects a child's output and waits for it to end. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs `prodmon ...args` to completion (killed after `timeoutMs`). */
export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = spawnCli(args, opts);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  try {
    return await finished(child);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves with the first match of `re` in what the child prints (stdout and stderr) from now on; rejects
 * once the child has ended (its output all read) without printing it, or after `timeoutMs`.
 */
export async function waitForOutput(
  child: ChildProcess,
  re: RegExp,
  timeoutMs = 30_000,
): Promise<RegExpExecArray> {
  let seen = '';
  let ended: string | undefined;
  const onData = (d: Buffer) => {
    seen += d.toString();
  };
  const onClose = (code: number | null, signal: NodeJS.Signals | null) => {
    ended = signal ?? String(code);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.on('close', onClose);
  try {
    return await waitFor(
      () => {
        const m = re.exec(seen);
        if (!m && ended !== undefined) throw new Error(`exited with ${ended} before ${re}; output:\n${seen}`);
        return m;
      },
      { timeout: timeoutMs, what: () => `${re} in the output; so far:\n${seen}` },
    );
  } finally {
    child.stdout?.off('data', onData);
    child.stderr?.off('data', onData);
    child.off('close', onClose);
  }
}
