/** Which health results are stored for history: the first of each check, every status change, and otherwise one per interval. */
import { errorMessage } from '../core/errors.js';
import type { HealthCheckResult, HealthStatus } from '../domain/health.js';
import type { CheckResultRepository } from './repository.js';

type LogFn = (obj: object, msg?: string) => void;

/** Results kept for a store that fails (the oldest are dropped beyond, and counted). */
const MAX_UNSTORED = 1000;

/**
 * Stores what is due; a store failure is logged once per outage as prodmon's own failure, and the due
 * results are kept (bounded) and stored with the next ones once the store works again.
 */
export class ResultPersister {
  readonly #last = new Map<string, { status: HealthStatus; at: number }>();
  #repo: Pick<CheckResultRepository, 'insert'> | null = null;
  #failing = false;
  #unstored: HealthCheckResult[] = [];
  #dropped = 0;

  constructor(
    private readonly everyMs: number,
    private readonly log: { info?: LogFn; error: LogFn } | undefined,
    private readonly clean: (text: string) => string,
  ) {}

  /** Where results go (`store.checks`). */
  attach(repo: Pick<CheckResultRepository, 'insert'>): void {
    this.#repo = repo;
  }

  /** The results of `results` that are due: all of them with `all`. */
  due(results: readonly HealthCheckResult[], all: boolean): HealthCheckResult[] {
    return results.filter((r) => {
      const last = this.#last.get(r.name);
      return all || !last || last.status !== r.status || r.checkedAt - last.at >= this.everyMs;
    });
  }

  /** Stores the due results (after those a failing store could not take); never throws. */
  async persist(results: readonly HealthCheckResult[], all = false): Promise<void> {
    if (!this.#repo) return;
    const due = this.due(results, all);
    // Counted as stored now: a result kept below is stored later, not followed by a copy of itself.
    for (const r of due) this.#last.set(r.name, { status: r.status, at: r.checkedAt });
    const batch = [...this.#unstored, ...due];
    if (batch.length === 0) return;
    try {
      await this.#repo.insert(batch);
      this.#unstored = [];
      if (this.#failing)
        this.log?.info?.(
          { stored: batch.length, dropped: this.#dropped },
          'health check results stored again (with those kept while the store failed)',
        );
      this.#failing = false;
      this.#dropped = 0;
    } catch (err) {
      if (!this.#failing) {
        this.log?.error(
          { err: this.clean(errorMessage(err)) },
          'cannot store health check results (prodmon store failure); kept until it works again',
        );
      }
      this.#failing = true;
      this.#dropped += Math.max(0, batch.length - MAX_UNSTORED);
      this.#unstored = batch.slice(-MAX_UNSTORED);
    }
  }
}
