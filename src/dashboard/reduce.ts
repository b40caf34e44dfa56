/**
 * Reducing rollup entries before a view reads them. The summary of a period reads the request and
 * query series (one per route and status class, or per database and operation, all instances together)
 * each over the whole period; the charts read them all together per bucket. Merging each of their
 * entries once into both (see `SummaryEntries`) leaves summarize and buildCharts a few hundred entries
 * to read instead of the tens of thousands of a week of hourly rows, with the same figures. The other
 * metrics (one series per host, scope or path) go to the charts as they are.
 */

import { EntryMerger } from '../metrics/merge.js';
import { METRIC } from '../metrics/names.js';
import type { RollupEntry } from '../metrics/read.js';
import { HOUR_MS, MINUTE_MS } from '../metrics/rollup.js';
import { SummaryEntries } from '../metrics/summary.js';

/** Metrics with a series per route or query: reduced for the summary and the charts. */
export const PER_ROUTE: ReadonlySet<string> = new Set<string>([METRIC.httpRequest, METRIC.dbQuery]);

/** Key parts of the usual widths (no number turned into a string per entry). */
const RESOLUTION: Record<number, string> = { [MINUTE_MS]: 'm', [HOUR_MS]: 'h' };

/** The entries of a period, reduced for its summary and its charts (see the module comment). */
export class ViewEntries {
  /** For the summary: request and query series over the period, the rest per bucket (all instances). */
  readonly #summary: SummaryEntries;
  readonly #buckets = new EntryMerger();
  readonly #rest: RollupEntry[] = [];

  constructor(
    readonly from: number,
    readonly until: number,
  ) {
    this.#summary = new SummaryEntries(from, until);
  }

  /** The instances whose entries came in (the summary lists them). */
  get instances(): ReadonlySet<string> {
    return this.#summary.instances;
  }

  /** Takes in entries (all of them may go afterwards: only the reductions are kept). */
  add(entries: readonly RollupEntry[]): void {
    this.#summary.add(entries);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!PER_ROUTE.has(e.metric)) {
        this.#rest.push(e);
        continue;
      }
      // Per bucket and width (an hourly row and a minute row starting together stay apart).
      const width = RESOLUTION[e.resolution] ?? String(e.resolution);
      this.#buckets.add(e.metric, '', width, e.bucket, e, true, e.bucket, e.resolution, '{}', '');
    }
  }

  /** What `summarize` reads (see `SummaryEntries`), with `instances`. */
  summary(): RollupEntry[] {
    return this.#summary.entries();
  }

  /** What `buildCharts` reads: requests and queries per bucket (all series), the other metrics as they are. */
  charts(): RollupEntry[] {
    return [...this.#buckets.entries(), ...this.#rest];
  }
}
