/** JSON columns: text in both databases. */
export const toJson = (v: unknown): string => JSON.stringify(v ?? {});
/** Parses a JSON column, tolerating null. */
export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
