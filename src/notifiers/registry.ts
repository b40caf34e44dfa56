/** The notification channel kinds prodmon knows: one line per kind. */
import type { NotifierDefinition } from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: each definition has its own option type
export const NOTIFIER_KINDS: readonly NotifierDefinition<any>[] = [];

/** The definition of a kind, or undefined. */
export function notifierKind(kind: string): NotifierDefinition | undefined {
  return NOTIFIER_KINDS.find((d) => d.kind === kind);
}
