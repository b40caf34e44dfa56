/**
 * The dashboard's static assets: a fixed list of files (the page's ES modules and CSS under
 * `src/dashboard/static/`, the modules it shares with the server such as `src/core/format.js`, uPlot
 * from `node_modules/uplot/dist`), read once into memory with their gzip form and a content hash.
 * Requests name an entry of the list; no path from a request ever reaches the file system, so
 * traversal has nothing to traverse.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** One servable file. */
export interface Asset {
  name: string;
  type: string;
  /** The file it was read from. */
  file: string;
  body: Buffer;
  gzip: Buffer;
  /** Short content hash: the `?v=` of its URL and its ETag. */
  hash: string;
}

const STATIC_FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'live.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/**
 * Modules the page shares with the server, by their path under `src/`: one file, imported by the
 * server's modules and served to the page as it is written (the page's modules import `./format.js`,
 * which the page's tsconfig resolves to the same file through `rootDirs`).
 */
const SHARED_FILES: Record<string, [string, string]> = {
  'format.js': ['core/format.js', 'text/javascript; charset=utf-8'],
};

const UPLOT_FILES: Record<string, [string, string]> = {
  'uPlot.min.js': ['uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
  'uPlot.min.css': ['uPlot.min.css', 'text/css; charset=utf-8'],
};

/**
 * The `src/` folder holding the page's files (`dashboard/static/`, `core/format.js`): this module's
 * parent when run from source; from a bundle (the built package's `dist/`, or a chunk in
 * `dist/chunks/`) the `src/` of the nearest folder above it that has one with those files, which is
 * the package's own (it ships `src/`).
 */
export function srcDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..')];
  for (let dir = here; ; dir = dirname(dir)) {
    candidates.push(join(dir, 'src'));
    if (dirname(dir) === dir) break;
  }
  const found = candidates.find((d) => existsSync(join(d, 'dashboard', 'static', 'app.js')));
  if (!found) throw new Error(`dashboard assets not found (looked in ${here}/.. and every src/ above it)`);
  return found;
}

/** The folder of uPlot's built files (from the installed `uplot` package). */
export function uplotDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('uplot/package.json')), 'dist');
}

function asset(name: string, type: string, file: string): Asset {
  const body = readFileSync(file);
  return {
    name,
    type,
    file,
    body,
    gzip: gzipSync(body, { level: 9 }),
    hash: createHash('sha256').update(body).digest('hex').slice(0, 12),
  };
}

/** The loaded assets, by name. */
export class AssetStore {
  readonly #assets = new Map<string, Asset>();

  constructor(dirs: { srcDir?: string; uplotDir?: string } = {}) {
    const src = dirs.srcDir ?? srcDir();
    const uplot = dirs.uplotDir ?? uplotDir();
    for (const [name, type] of Object.entries(STATIC_FILES)) {
      this.#assets.set(name, asset(name, type, join(src, 'dashboard', 'static', name)));
    }
    for (const [name, [file, type]] of Object.entries(SHARED_FILES)) {
      this.#assets.set(name, asset(name, type, join(src, file)));
    }
    for (const [name, [file, type]] of Object.entries(UPLOT_FILES)) {
      this.#assets.set(name, asset(name, type, join(uplot, file)));
    }
  }

  /** The asset of exactly this name, or undefined. */
  get(name: string): Asset | undefined {
    return Object.hasOwn(STATIC_FILES, name) ||
      Object.hasOwn(SHARED_FILES, name) ||
      Object.hasOwn(UPLOT_FILES, name)
      ? this.#assets.get(name)
      : undefined;
  }

  /** Every asset. */
  all(): Asset[] {
    return [...this.#assets.values()];
  }

  /** The versioned URL of an asset under `base` (`.../assets/app.js?v=hash`). */
  url(base: string, name: string): string {
    const a = this.#assets.get(name);
    if (!a) throw new Error(`unknown dashboard asset ${name}`);
    return `${base}/${name}?v=${a.hash}`;
  }
}
