/**
 * A traffic generator for the demo: virtual customers browse, search, look at products, fill carts,
 * check out, and now and then mistype a password. Bounded in time and in requests; loopback only.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_PASSWORD, DEMO_USERS } from './seed.js';

/** How much traffic, for how long. */
export interface TrafficOptions {
  /** The shop, on 127.0.0.1 / localhost / [::1] only. */
  baseUrl: string;
  /** Virtual customers in parallel (default 4). */
  concurrency?: number;
  /** Stop after this long. */
  durationMs: number;
  /** Stop after this many requests (default 1,000,000). */
  maxRequests?: number;
  /** Pause between a customer's steps, in ms (default 100; each pause is 0.5-1.5 times it). */
  thinkMs?: number;
  signal?: AbortSignal;
  random?: () => number;
  /** Share of journeys that include a failed sign-in (default 0.05). */
  failedLoginShare?: number;
  /** Hears each response's status (0: the connection failed). */
  onResponse?: (status: number) => void;
}

/** What happened. */
export interface TrafficStats {
  requests: number;
  /** By status (`200`, `409`...; `network` for failed connections). */
  byStatus: Record<string, number>;
  /** By step (`browse`, `search`, `product`, `cart`, `add`, `checkout`, `login`). */
  bySteps: Record<string, number>;
  orders: number;
  elapsedMs: number;
}

/** The fields of the shop's answers the customers look at. */
interface Body {
  id?: string;
  stock?: number;
  items?: { id: number }[];
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const WORDS = [
  'lamp',
  'walnut',
  'kettle',
  'tent',
  'copper',
  'socks',
  'speaker',
  'nordic',
  'puzzle',
  'atlas',
  'knife',
  'rugged',
];
const SORTS = ['name', 'price', '-price', 'newest'];

/** Throws unless `url` points at this machine. */
export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!LOOPBACK.has(host)) throw new Error(`traffic is only sent to this machine (got ${host})`);
}

/** Runs the traffic until the time or request budget is spent (or `signal` aborts). */
export async function runTraffic(opts: TrafficOptions): Promise<TrafficStats> {
  assertLoopback(opts.baseUrl);
  const base = opts.baseUrl.replace(/\/$/, '');
  const random = opts.random ?? Math.random;
  const think = opts.thinkMs ?? 100;
  const maxRequests = opts.maxRequests ?? 1_000_000;
  const failedShare = opts.failedLoginShare ?? 0.05;
  const t0 = performance.now();
  const deadline = t0 + opts.durationMs;
  const stats: TrafficStats = { requests: 0, byStatus: {}, bySteps: {}, orders: 0, elapsedMs: 0 };
  const stopped = () =>
    opts.signal?.aborted || performance.now() >= deadline || stats.requests >= maxRequests;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

  /** One request; null when the budget is spent or the connection failed. */
  const send = async (step: string, method: string, path: string, body?: unknown) => {
    if (stopped()) return null;
    stats.requests++;
    stats.bySteps[step] = (stats.bySteps[step] ?? 0) + 1;
    try {
      const res = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any([AbortSignal.timeout(10_000), ...(opts.signal ? [opts.signal] : [])]),
      });
      const text = await res.text();
      stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
      opts.onResponse?.(res.status);
      let json: Body = {};
      try {
        json = text ? (JSON.parse(text) as Body) : {};
      } catch {
        json = {};
      }
      return { status: res.status, body: json };
    } catch {
      if (opts.signal?.aborted) return null; // stopped, not a failure
      stats.byStatus.network = (stats.byStatus.network ?? 0) + 1;
      opts.onResponse?.(0);
      return null;
    }
  };
  const pause = async () => {
    if (stopped()) return;
    const ms = Math.min(think * (0.5 + random()), Math.max(0, deadline - performance.now()));
    await sleep(ms, undefined, { signal: opts.signal }).catch(() => {});
  };

  const journey = async () => {
    const list = await send(
      'browse',
      'GET',
      `/api/products?page=${1 + Math.floor(random() * 19)}&sort=${pick(SORTS)}`,
    );
    await pause();
    let seen: { id: number }[] = list?.status === 200 ? (list.body.items ?? []) : [];
    if (random() < 0.6) {
      const found = await send('search', 'GET', `/api/products?q=${pick(WORDS)}&per_page=10`);
      if (found?.status === 200 && found.body.items?.length) seen = found.body.items;
      await pause();
    }
    const viewed: number[] = [];
    for (let i = 0, n = 1 + Math.floor(random() * 3); i < n && seen.length; i++) {
      const p = pick(seen);
      const r = await send('product', 'GET', `/api/products/${p.id}`);
      if (r?.status === 200 && (r.body.stock ?? 0) > 0) viewed.push(p.id);
      await pause();
    }
    if (random() < failedShare) {
      await send('login', 'POST', '/api/login', { email: pick(DEMO_USERS).email, password: 'password123' });
      await pause();
    } else if (random() < 0.05) {
      await send('login', 'POST', '/api/login', { email: pick(DEMO_USERS).email, password: DEMO_PASSWORD });
      await pause();
    }
    if (viewed.length === 0 || random() >= 0.5) return;
    const cart = await send('cart', 'POST', '/api/carts');
    if (cart?.status !== 201) return;
    for (const id of viewed) {
      await send('add', 'POST', `/api/carts/${cart.body.id}/items`, {
        product_id: id,
        quantity: 1 + Math.floor(random() * 2),
      });
      await pause();
    }
    if (random() < 0.6) {
      const order = await send('checkout', 'POST', '/api/checkout', { cart_id: cart.body.id });
      if (order?.status === 201) stats.orders++;
      await pause();
    }
  };

  await Promise.all(
    Array.from({ length: opts.concurrency ?? 4 }, async () => {
      while (!stopped()) await journey();
    }),
  );
  stats.elapsedMs = performance.now() - t0;
  return stats;
}
