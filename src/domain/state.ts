/** Small named values prodmon keeps across restarts (last evaluation, last status change, channel states...). */

/** Where they are kept (the store's `state` table). */
export interface StateRepository {
  /** The value of `key`, or undefined. */
  get<T>(key: string): Promise<T | undefined>;
  /** Sets `key` to a JSON-serialisable value. */
  set(key: string, value: unknown, now: number): Promise<void>;
}
