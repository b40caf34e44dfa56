/** Benchmark child: the example shop without monitoring. */
import { serve, serveArgs } from './shop-serve.js';

const { dir, redis } = serveArgs();
await serve(dir, redis);
