/** Shared parts of the shop benchmarks: the child shop process, its stats, and the traffic mix. */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { bundleChild } from './support.js';

/** The parts of autocannon's options the shop benchmarks use. */
export interface LoadOptions {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  overallRate?: number;
  requests: unknown[];
}

/** The parts of autocannon's result the shop benchmarks read. */
export interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** autocannon (CommonJS, without type declarations), typed for what is used here. */
export const autocannon = createRequire(import.meta.url)('autocannon') as (
  opts: LoadOptions,
) => Promise<LoadResult>;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Two levels under the repository (so prodmon finds `src/dashboard/static`), beside node_modules' packages. */
const BUILD_DIR = join(ROOT, 'node_modules', '.shop-bench');

let built: Promise<{ bare: string; prodmon: string }> | undefined;

/**
 * Bundles the two child entries to plain JavaScript (bundleChild), so the processes measured run like a
 * deployed service, without tsx transpiling and caching at run time.
 */
export function buildServers(): Promise<{ bare: string; prodmon: string }> {
  built ??= (async () => ({
    bare: await bundleChild(join(ROOT, 'bench', 'shop-server-bare.ts'), BUILD_DIR),
    prodmon: await bundleChild(join(ROOT, 'bench', 'shop-server-prodmon.ts'), BUILD_DIR),
  }))();
  return built;
}

/** CPU and memory of the child at one moment. */
export interface Stats {
  cpu: { user: number; system: number };
  rss: number;
  heapUsed: number;
  /** The child's performance.now(), ms. */
  at: number;
}

/** A message from the child. */
type Message = { type: string } & Record<string, unknown>;

/** A shop running in a child process. */
export interface ShopProcess {
  url: string;
  prodmon: boolean;
  /** CPU and memory now; `gc` first runs a full garbage collection (for steady-state memory). */
  stats(gc?: boolean): Promise<Stats>;
  stop(): Promise<void>;
}

/** Forks the (bundled) shop, with or without prodmon, and waits until it listens. */
export async function startShop(prodmon: boolean): Promise<ShopProcess> {
  const servers = await buildServers();
  const dir = mkdtempSync(join(tmpdir(), 'shop-bench-'));
  const child: ChildProcess = fork(prodmon ? servers.prodmon : servers.bare, ['--dir', dir], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: string) =>
    new Promise<Message>((resolve, reject) => {
      const onMsg = (m: Message) => {
        if (m?.type !== type) return;
        child.off('message', onMsg);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) =>
        reject(new Error(`shop process exited (${code}) waiting for ${type}`));
      child.on('message', onMsg);
      child.once('exit', onExit);
    });
  const ready = await next('ready');
  return {
    url: String(ready.url),
    prodmon,
    async stats(gc = false) {
      const p = next('stats');
      child.send({ type: 'stats', gc });
      return (await p) as unknown as Stats;
    },
    async stop() {
      const p = next('stopped').catch(() => {});
      child.send({ type: 'stop' });
      await p;
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
      // The child's cache keys (bench_<pid>:*).
      const redis = createClient({ url: 'redis://127.0.0.1:6379' });
      await redis.connect().catch(() => {});
      if (redis.isReady) {
        const keys = await redis.keys(`bench_${child.pid}:*`);
        if (keys.length) await redis.del(keys);
        await redis.close();
      }
    },
  };
}

/** CPU ms used between two stats. */
export function cpuMs(a: Stats, b: Stats): number {
  return (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000;
}

/** The request autocannon is about to send (what `setupRequest` may change). */
interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
/** What one connection remembers between its requests. */
interface MixContext {
  cart?: string;
}
/** One step of the mix, in autocannon's `requests` format. */
export interface MixRequest extends RawRequest {
  setupRequest?: (r: RawRequest, ctx: MixContext) => RawRequest;
  onResponse?: (status: number, body: string, ctx: MixContext) => void;
}

const WORDS = ['lamp', 'walnut', 'kettle', 'tent', 'copper', 'socks', 'speaker', 'nordic'];
const rnd = (n: number) => 1 + Math.floor(Math.random() * n);

/**
 * The autocannon request sequence each connection loops through: browse, search, two product pages,
 * another list page, then a cart with one item and a checkout (6 reads, 3 writes).
 */
export function trafficMix(): MixRequest[] {
  const json = { 'content-type': 'application/json' };
  return [
    {
      method: 'GET',
      setupRequest: (r: RawRequest) => ({ ...r, path: `/api/products?page=${rnd(19)}&sort=price` }),
    },
    {
      method: 'GET',
      setupRequest: (r: RawRequest) => ({ ...r, path: `/api/products?q=${WORDS[rnd(WORDS.length) - 1]}` }),
    },
    { method: 'GET', setupRequest: (r: RawRequest) => ({ ...r, path: `/api/products/${rnd(384)}` }) },
    { method: 'GET', setupRequest: (r: RawRequest) => ({ ...r, path: `/api/products/${rnd(384)}` }) },
    {
      method: 'GET',
      setupRequest: (r: RawRequest) => ({ ...r, path: `/api/products?category=audio&page=${rnd(2)}` }),
    },
    {
      method: 'POST',
      path: '/api/carts',
      onResponse: (_status: number, body: string, ctx: MixContext) => {
        ctx.cart = JSON.parse(body).id;
      },
    },
    {
      method: 'POST',
      headers: json,
      setupRequest: (r: RawRequest, ctx: MixContext) => ({
        ...r,
        path: `/api/carts/${ctx.cart}/items`,
        body: JSON.stringify({ product_id: rnd(384), quantity: 1 }),
      }),
    },
    {
      method: 'POST',
      path: '/api/checkout',
      headers: json,
      setupRequest: (r: RawRequest, ctx: MixContext) => ({
        ...r,
        body: JSON.stringify({ cart_id: ctx.cart }),
      }),
    },
    {
      method: 'GET',
      setupRequest: (r: RawRequest, ctx: MixContext) => ({ ...r, path: `/api/carts/${ctx.cart}` }),
    },
  ];
}

/** `12.3 MB`. */
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
