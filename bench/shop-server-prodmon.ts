/** Benchmark child: the example shop with prodmon embedded (defaults, plus a token and file logs). */
import { join } from 'node:path';
import { prodmonTelemetry } from '../examples/shop/src/prodmon.js';
import { serve, serveArgs } from './shop-serve.js';

const { dir, redis } = serveArgs();
await serve(
  dir,
  redis,
  prodmonTelemetry({
    dataDir: join(dir, 'prodmon'),
    config: {
      auth: { tokens: [{ name: 'bench', token: 'bench-token-0123456789abcdef', role: 'admin' }] },
      logs: { stdout: false },
    },
  }),
);
