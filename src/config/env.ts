/** `${VAR}` and `${VAR:-default}` substitution in parsed YAML values (never in the YAML text). */
import { yamlModule } from '../core/lazy.js';

const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** A missing variable, with where it was used. */
export interface EnvProblem {
  path: (string | number)[];
  message: string;
}

function substituteString(
  text: string,
  env: NodeJS.ProcessEnv,
  path: (string | number)[],
  problems: EnvProblem[],
): unknown {
  let whole = false;
  const out = text.replace(REF, (match, name: string | undefined, fallback: string | undefined, offset) => {
    if (match === '$${') return '${';
    whole = offset === 0 && match.length === text.length;
    const value = env[name!];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    problems.push({
      path,
      message: `environment variable ${name} is not set (write \${${name}:-default} for a default)`,
    });
    return '';
  });
  if (!whole) return out;
  // A value that is exactly one reference takes the type its text reads as: `port: ${PORT}` is a number.
  const scalar = yamlModule().parse(out);
  return typeof scalar === 'number' || typeof scalar === 'boolean' ? scalar : out;
}

/** Returns a copy of `value` with every `${VAR}` in its strings replaced from `env`. */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: EnvProblem[],
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') return substituteString(value, env, path, problems);
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, problems, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, problems, [...path, k]);
    return out;
  }
  return value;
}
