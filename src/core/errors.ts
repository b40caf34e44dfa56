/** Stable error codes: `PRODMON_E_*`. A code names what failed; the message says what to do. */
export type ErrorCode =
  | 'PRODMON_E_CONFIG'
  | 'PRODMON_E_STORE'
  | 'PRODMON_E_MIGRATION'
  | 'PRODMON_E_LISTEN'
  | 'PRODMON_E_DATA_DIR'
  | 'PRODMON_E_BAD_REQUEST'
  | 'PRODMON_E_NOT_FOUND'
  | 'PRODMON_E_CONFLICT'
  | 'PRODMON_E_UNAUTHORIZED'
  | 'PRODMON_E_FORBIDDEN'
  | 'PRODMON_E_CHECK'
  | 'PRODMON_E_NOTIFY'
  | 'PRODMON_E_LEADERSHIP'
  | 'PRODMON_E_LIMIT'
  | 'PRODMON_E_INTERNAL';

/** An error of prodmon itself (never a monitored target being down: that is data). */
export class ProdmonError extends Error {
  readonly code: ErrorCode;
  /** Exit code the CLI uses when this error ends a command. */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProdmonError';
    this.code = code;
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** The message of any thrown value, without a stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** A config that failed validation: every problem, each naming the file and the field path. */
export class ConfigError extends ProdmonError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('PRODMON_E_CONFIG', problems.join('\n'), { exitCode: 2 });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
