/** Which health results are stored for history: the first of each check, every status change, and otherwise one per interval. */
import { errorMessage } from '../core/errors.js';
import type { HealthCheckResult, HealthStatus } from '../core/types.js';
import type { CheckResultRepo } from '../store/repos/checks.js';

type LogFn = (obj: object, msg?: string) => void;

/** Stores what is due; a store failure is logged once per outage as prodmon's own failure. */
export class ResultPersister {
  readonly #last = new Map<string, { status: HealthStatus; at: number }>();
  #repo: Pick<CheckResultRepo, 'insert'> | null = null;
  #failing = false;

  constructor(
    private readonly everyMs: number,
    private readonly log: { info?: LogFn; error: LogFn } | undefined,
    private readonly clean: (text: string) => string,
  ) {}

  /** Where results go (`store.checks`). */
  attach(repo: Pick<CheckResultRepo, 'insert'>): void {
    this.#repo = repo;
  }

  /** The results of `results` that are due: all of them with `all`. */
  due(results: readonly HealthCheckResult[], all: boolean): HealthCheckResult[] {
    return results.filter((r) => {
      const last = this.#last.get(r.name);
      return all || !last || last.status !== r.status || r.checkedAt - last.at >= this.everyMs;
    });
  }

  /** Stores the due results; never throws. */
  async persist(results: readonly HealthCheckResult[], all = false): Promise<void> {
    if (!this.#repo) return;
    const due = this.due(results, all);
    if (due.length === 0) return;
    try {
      await this.#repo.insert(due);
      for (const r of due) this.#last.set(r.name, { status: r.status, at: r.checkedAt });
      if (this.#failing) this.log?.info?.({}, 'health check results stored again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) {
        this.log?.error(
          { err: this.clean(errorMessage(err)) },
          'cannot store health check results (prodmon store failure)',
        );
      }
      this.#failing = true;
    }
  }
}
