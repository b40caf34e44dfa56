/** Fault switches for the demo: slow database, injected errors, Redis outage. Off unless switched on. */
import type { NextFunction, Request, Response } from 'express';
import { ShopError } from './errors.js';

export const FAULT_NAMES = ['slow-db', 'errors', 'redis-down'] as const;
/** A fault the demo can switch on. */
export type FaultName = (typeof FAULT_NAMES)[number];

/** Whether a string names a fault. */
export function isFaultName(s: unknown): s is FaultName {
  return typeof s === 'string' && (FAULT_NAMES as readonly string[]).includes(s);
}

/** How strong each fault is. */
export interface FaultOptions {
  /** Added to every query while `slow-db` is on (default 300 ms). */
  slowDbMs?: number;
  /** Share of API requests failed with a 500 while `errors` is on (default 0.5). */
  errorRatio?: number;
  /** Source of randomness (tests pass a fixed sequence). */
  random?: () => number;
}

/** The switches, and the hooks that apply them. */
export class Faults {
  readonly slowDbMs: number;
  readonly errorRatio: number;
  readonly #random: () => number;
  readonly #on = new Set<FaultName>();
  readonly #listeners: ((name: FaultName, on: boolean) => void)[] = [];

  constructor(opts: FaultOptions = {}) {
    this.slowDbMs = opts.slowDbMs ?? 300;
    this.errorRatio = opts.errorRatio ?? 0.5;
    this.#random = opts.random ?? Math.random;
  }

  /** Switches a fault on or off; listeners hear only real changes. */
  set(name: FaultName, on: boolean): void {
    if (this.#on.has(name) === on) return;
    if (on) this.#on.add(name);
    else this.#on.delete(name);
    for (const l of this.#listeners) l(name, on);
  }

  /** Whether a fault is on. */
  isOn(name: FaultName): boolean {
    return this.#on.has(name);
  }

  /** The faults that are on. */
  active(): FaultName[] {
    return FAULT_NAMES.filter((f) => this.#on.has(f));
  }

  /** Calls `fn` on every change. */
  onChange(fn: (name: FaultName, on: boolean) => void): void {
    this.#listeners.push(fn);
  }

  /** Latency to add before each database statement right now (`slowDbMs` while `slow-db` is on). */
  delayMs = (): number => (this.#on.has('slow-db') ? this.slowDbMs : 0);

  /** Express middleware: fails a share of requests with a 500 while `errors` is on. */
  errors = (_req: Request, _res: Response, next: NextFunction): void => {
    if (this.#on.has('errors') && this.#random() < this.errorRatio) {
      next(new ShopError(500, 'injected_fault', 'injected failure (demo fault "errors")'));
      return;
    }
    next();
  };
}
