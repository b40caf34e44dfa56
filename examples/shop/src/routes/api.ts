/** The shop's JSON API under `/api`: catalogue, carts, checkout, orders, sign-in. */
import {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  Router,
} from 'express';
import { z } from 'zod';
import { login, logout, maskEmail, type User, userOfSession } from '../accounts.js';
import type { InventoryCache } from '../cache.js';
import { addItem, createCart, getCart, MAX_QUANTITY, setItemQuantity } from '../carts.js';
import { getProduct, listCategories, SORTS, searchProducts } from '../catalog.js';
import { checkout, getOrder } from '../checkout.js';
import type { ShopDb } from '../db/types.js';
import { notFound, ShopError } from '../errors.js';
import { availableStock } from '../inventory.js';
import type { Telemetry } from '../telemetry.js';
import { email, idParam, parse } from './validate.js';

/** What the API needs. */
export interface ApiDeps {
  db: ShopDb;
  cache: InventoryCache;
  telemetry: Telemetry;
  now: () => number;
  /** Runs first in every route, after it matched (the demo's error fault: the failure keeps its route label). */
  inject?: RequestHandler;
  /**
   * Error middleware run inside the router: errors are answered before leaving it, so `req.baseUrl`
   * (`/api`) is still set when monitoring reads the route of a failed request.
   */
  errorHandlers?: ErrorRequestHandler[];
}

const productQuery = z.object({
  q: z.string().max(100).optional(),
  category: z.string().max(40).optional(),
  min_price_cents: z.coerce.number().int().min(0).optional(),
  max_price_cents: z.coerce.number().int().min(0).optional(),
  in_stock: z.enum(['true', 'false', '1', '0']).optional(),
  sort: z.enum(Object.keys(SORTS) as [keyof typeof SORTS, ...(keyof typeof SORTS)[]]).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  per_page: z.coerce.number().int().min(1).max(100).default(20),
});
const addBody = z.object({
  product_id: z.number().int().positive(),
  quantity: z.number().int().min(1).max(MAX_QUANTITY).default(1),
});
const setBody = z.object({ quantity: z.number().int().min(0).max(MAX_QUANTITY) });
const checkoutBody = z.object({ cart_id: z.uuid(), email: email.optional() });
const loginBody = z.object({ email: z.string().max(254), password: z.string().max(200) });
const cartId = z.uuid({ error: 'expected a cart id' });

/** The customer of the request's bearer session, if any (`res.locals.user`). */
function bearer(req: Request): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m ? m[1]! : null;
}

/** Builds the API router. */
export function apiRouter(deps: ApiDeps): Router {
  const { db, cache, telemetry, now } = deps;
  const router = Router();
  const inject: RequestHandler[] = deps.inject ? [deps.inject] : [];
  const r = {
    get: (path: string, h: RequestHandler) => router.get(path, ...inject, h),
    post: (path: string, h: RequestHandler) => router.post(path, ...inject, h),
    put: (path: string, h: RequestHandler) => router.put(path, ...inject, h),
    delete: (path: string, h: RequestHandler) => router.delete(path, ...inject, h),
    use: (h: RequestHandler) => router.use(h),
  };

  // Sessions are optional everywhere but /me and /logout; a bad token is simply "not signed in".
  r.use(async (req: Request, res: Response, next: NextFunction) => {
    const token = bearer(req);
    res.locals.user = token ? await userOfSession(db, token, now()) : null;
    next();
  });
  const userOf = (res: Response) => res.locals.user as User | null;

  /** A signed-in customer's cart is theirs alone: others get the same 404 as for a missing cart. */
  const accessCart = async (id: string, res: Response) => {
    const cart = await getCart(db, id);
    if (cart.user_id !== null && cart.user_id !== userOf(res)?.id) throw notFound('cart', id);
    return cart;
  };

  r.get('/products', async (req, res) => {
    const q = parse(productQuery, req.query);
    const page = await searchProducts(db, {
      q: q.q,
      category: q.category,
      minPriceCents: q.min_price_cents,
      maxPriceCents: q.max_price_cents,
      inStock: q.in_stock === 'true' || q.in_stock === '1',
      sort: q.sort,
      page: q.page,
      perPage: q.per_page,
    });
    res.json(page);
  });

  r.get('/products/:id', async (req, res) => {
    const product = await getProduct(db, parse(idParam, req.params.id));
    // Stock comes through the inventory cache (the row's value is the fallback if Redis is down).
    const { stock, cache: outcome } = await availableStock(db, cache, [product.id]);
    res.setHeader('x-cache', outcome);
    res.json({ ...product, stock: stock.get(product.id) ?? product.stock });
  });

  r.get('/categories', async (_req, res) => {
    res.json({ items: await listCategories(db) });
  });

  r.post('/carts', async (_req, res) => {
    const id = await createCart(db, userOf(res)?.id ?? null, now());
    res
      .status(201)
      .location(`/api/carts/${id}`)
      .json(await getCart(db, id));
  });

  r.get('/carts/:id', async (req, res) => {
    const cart = await accessCart(parse(cartId, req.params.id), res);
    const { stock, cache: outcome } = await availableStock(
      db,
      cache,
      cart.items.map((i) => i.product_id),
    );
    res.setHeader('x-cache', outcome);
    res.json({ ...cart, items: cart.items.map((i) => ({ ...i, available: stock.get(i.product_id) ?? 0 })) });
  });

  r.post('/carts/:id/items', async (req, res) => {
    const id = parse(cartId, req.params.id);
    const body = parse(addBody, req.body ?? {});
    await accessCart(id, res);
    const { stock, cache: outcome } = await availableStock(db, cache, [body.product_id]);
    res.setHeader('x-cache', outcome);
    const available = stock.get(body.product_id);
    if (available === undefined) throw notFound('product', body.product_id);
    const existing =
      (await getCart(db, id)).items.find((i) => i.product_id === body.product_id)?.quantity ?? 0;
    if (existing + body.quantity > available) {
      throw new ShopError(409, 'out_of_stock', `only ${available} of product ${body.product_id} in stock`, {
        product_id: body.product_id,
        requested: existing + body.quantity,
        available,
      });
    }
    await addItem(db, id, body.product_id, body.quantity, now());
    res.status(201).json(await getCart(db, id));
  });

  r.put('/carts/:id/items/:productId', async (req, res) => {
    const id = parse(cartId, req.params.id);
    const productId = parse(idParam, req.params.productId);
    const body = parse(setBody, req.body ?? {});
    await accessCart(id, res);
    await setItemQuantity(db, id, productId, body.quantity, now());
    res.json(await getCart(db, id));
  });

  r.delete('/carts/:id/items/:productId', async (req, res) => {
    const id = parse(cartId, req.params.id);
    await accessCart(id, res);
    await setItemQuantity(db, id, parse(idParam, req.params.productId), 0, now());
    res.json(await getCart(db, id));
  });

  r.post('/checkout', async (req, res) => {
    const body = parse(checkoutBody, req.body ?? {});
    await accessCart(body.cart_id, res);
    const user = userOf(res);
    const order = await checkout(db, {
      cartId: body.cart_id,
      userId: user?.id ?? null,
      email: body.email ?? user?.email ?? null,
      now: now(),
    });
    // The database is the truth; the cache forgets what changed (its TTL covers a Redis outage).
    await cache.invalidate(order.items.map((i) => i.product_id));
    telemetry.logger.app.info(
      { order_id: order.id, total_cents: order.total_cents, lines: order.items.length },
      'order placed',
    );
    res.status(201).location(`/api/orders/${order.id}`).json(order);
  });

  r.get('/orders/:id', async (req, res) => {
    const order = await getOrder(db, parse(z.uuid({ error: 'expected an order id' }), req.params.id));
    if (order.user_id !== null && order.user_id !== userOf(res)?.id) throw notFound('order', order.id);
    res.json(order);
  });

  r.post('/login', async (req, res) => {
    const body = parse(loginBody, req.body ?? {});
    const result = await login(db, body.email, body.password, now());
    if (!result.ok) {
      telemetry.security({
        type: 'failed_login',
        ip: req.ip,
        user: maskEmail(body.email),
        reason: result.reason,
      });
      throw new ShopError(401, 'invalid_credentials', 'invalid email or password');
    }
    telemetry.logger.security.info(
      { event: 'login_succeeded', ip: req.ip, user: maskEmail(result.user.email) },
      'signed in',
    );
    res.json({ token: result.token, expires_at: result.expiresAt, user: result.user });
  });

  r.post('/logout', async (req, res) => {
    const token = bearer(req);
    if (!token || !userOf(res)) throw new ShopError(401, 'unauthorized', 'sign in first');
    await logout(db, token);
    res.status(204).end();
  });

  r.get('/me', (_req, res) => {
    const user = userOf(res);
    if (!user) throw new ShopError(401, 'unauthorized', 'sign in first');
    res.json(user);
  });

  for (const h of deps.errorHandlers ?? []) router.use(h);
  return router;
}
