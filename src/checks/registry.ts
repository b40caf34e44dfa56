/** The check kinds prodmon knows: one line per kind. */
import type { CheckDefinition } from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: each definition has its own option type
export const CHECK_KINDS: readonly CheckDefinition<any>[] = [];

/** The definition of a kind, or undefined. */
export function checkKind(kind: string): CheckDefinition | undefined {
  return CHECK_KINDS.find((d) => d.kind === kind);
}
