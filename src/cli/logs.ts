/** `prodmon logs tail`: the last lines of a production log (live and rotated files), optionally following it. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { scrub } from '../config/mask.js';
import { systemClock } from '../core/clock.js';
import { configDuration } from '../core/duration.js';
import {
  followLogs,
  formatLogLine,
  type LivePosition,
  LOG_STREAMS,
  type LogLine,
  type LogStream,
  liveFileName,
  liveFilePosition,
  tailLogs,
} from '../logging/index.js';
import { EXIT, type GlobalOptions, globalOptions, paint, printJson, runWithConfig } from './common.js';

interface TailOptions extends GlobalOptions {
  stream: LogStream;
  grep?: string;
  lines: number;
  since?: number;
  follow?: boolean;
}

/** The most lines `logs tail` prints (they are held in memory to be printed oldest first). */
export const MAX_TAIL_LINES = 100_000;
/** The longest `--since` (ten years). */
export const MAX_TAIL_SINCE_MS = 3650 * 86_400_000;

function lineCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_TAIL_LINES)
    throw new InvalidArgumentError(`expected a whole number of lines from 1 to ${MAX_TAIL_LINES}`);
  return n;
}

function sinceDuration(text: string): number {
  const r = configDuration(text);
  if (!r.ok) throw new InvalidArgumentError(r.problem);
  if (r.value > MAX_TAIL_SINCE_MS)
    throw new InvalidArgumentError('expected a duration such as 15m, 2h, 1d, at most 3650d');
  return r.value;
}

/** Prints new lines until SIGINT/SIGTERM (or stdout is closed, e.g. piped into `head`). */
async function follow(
  opts: TailOptions,
  dir: string,
  from: LivePosition,
  print: (l: LogLine) => void,
): Promise<void> {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.on('error', onStdoutError);
  try {
    for await (const line of followLogs({
      dir,
      stream: opts.stream,
      grep: opts.grep,
      clock: systemClock,
      signal: ctl.signal,
      from,
    })) {
      print(line);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stdout.off('error', onStdoutError);
  }
}

/** Adds `prodmon logs tail`. */
export function registerLogs(program: Command): void {
  const logs = program.command('logs').description('read the production log files');
  logs
    .command('tail')
    .description('print the last lines of a log, oldest first, reading rotated (gzipped) files when needed')
    .addOption(
      new Option('-s, --stream <name>', 'which log').choices([...LOG_STREAMS]).default('application'),
    )
    .option('-g, --grep <text>', 'only lines containing TEXT (case-insensitive)')
    .option('-n, --lines <n>', 'how many lines', lineCount, 50)
    .option('--since <duration>', 'only lines of the last DURATION (15m, 2h, 1d)', sinceDuration)
    .option('-f, --follow', 'keep printing lines as they are written, until interrupted')
    .option('--json', 'print JSON (with --follow: one object per line)')
    .action(async (_o, cmd: Command) => {
      const opts = globalOptions(cmd) as TailOptions;
      await runWithConfig(opts, async (config) => {
        const dir = config.paths.logs;
        // Lines are redacted when written; scrubbing again covers secrets added to the config since.
        const print = (line: LogLine) => {
          const text = opts.json ? JSON.stringify(line) : formatLogLine(line, (style, t) => paint(style, t));
          process.stdout.write(`${scrub(text, config.secrets)}\n`);
        };
        const since = opts.since === undefined ? undefined : systemClock.now() - opts.since;
        // With --follow, the tail stops where following starts: no line is missed or printed twice.
        const from = await liveFilePosition(dir, opts.stream);
        const lines = await tailLogs({
          dir,
          stream: opts.stream,
          lines: opts.lines,
          grep: opts.grep,
          since,
          liveBytes: opts.follow ? from.offset : undefined,
        });
        if (opts.json && !opts.follow) {
          printJson(JSON.parse(scrub(JSON.stringify(lines), config.secrets)));
          return EXIT.ok;
        }
        for (const line of lines) print(line);
        if (lines.length === 0 && !opts.follow && !opts.json) {
          process.stderr.write(
            `no matching lines in ${dir}/${liveFileName(opts.stream)} or its rotated files\n`,
          );
        }
        if (opts.follow) await follow(opts, dir, from, print);
        return EXIT.ok;
      });
    });
}
