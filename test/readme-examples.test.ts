/**
 * The README's embedding examples (the code blocks marked `<!-- readme-example: NAME -->`: Express,
 * Fastify, Koa, node:http, the agent), each run as its own Node process as a user would run it: the
 * block bundled as the package ships (esbuild, `prodmon` resolved to this checkout's source), started
 * in an empty working directory (so the monitor's data directory is a temporary one), sent 20
 * requests to its example route and 3 that fail with a 500, then asked for what it recorded (its
 * `/metrics` and `/production/api/performance`; the agent's through the standalone monitor it pushes
 * to), and stopped with SIGTERM, after which it must exit by itself with status 0.
 *
 * The only changes made to a block are mechanical, and listed in SUBSTITUTIONS: the port, the URL of
 * the standalone monitor, and a failing route put where the block says `// ... your routes`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { externalPackages } from '../scripts/bundle.js';
import { createMonitor, type Monitor } from '../src/index.js';
import { killIfRunning } from './support/cli.js';
import { freePort, tcpAccepts } from './support/health.js';
import { parsePrometheusText } from './support/prom-parser.js';
import { tempDir, uniqueName } from './support/services.js';
import { waitFor } from './support/wait.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The marked code blocks of a README, by name, in order. */
function readmeExamples(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/<!-- readme-example: ([a-z-]+) -->\n```ts\n([\s\S]*?)```/g)) {
    assert.ok(!out.has(m[1]!), `two README examples named ${m[1]}`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** A route that fails with a 500, in each example's framework (put at `// ... your routes`). */
const FAILING_ROUTE: Record<string, string> = {
  express: `app.get('/fail', () => { throw new Error('fails on purpose'); });`,
  fastify: `app.get('/fail', async () => { throw new Error('fails on purpose'); });`,
  koa: `router.get('/fail', () => { throw new Error('fails on purpose'); });`,
  'node-http': `if (req.url === '/fail') { res.statusCode = 500; res.end('fails on purpose'); return; }`,
  agent: `app.get('/fail', () => { throw new Error('fails on purpose'); });`,
};

/** Every change made to a README block before it runs: [what, replaced by]; each must occur exactly once. */
function substitutions(name: string, port: number, monitorUrl: string): [RegExp, string][] {
  return [
    [/\b3000\b/g, String(port)], // a free port instead of 3000
    [/\/\/ \.\.\. your routes/g, FAILING_ROUTE[name]!],
    ...(name === 'agent'
      ? ([[/http:\/\/monitor\.internal:9464/g, monitorUrl]] as [RegExp, string][]) // the test's standalone
      : []),
  ];
}

function runnable(name: string, code: string, port: number, monitorUrl: string): string {
  let out = code;
  for (const [re, by] of substitutions(name, port, monitorUrl)) {
    const n = out.match(re)?.length ?? 0;
    assert.equal(n, 1, `README example ${name}: ${re} occurs ${n} times, expected once`);
    out = out.replace(re, by);
  }
  return out;
}

/** Bundles a block as the package ships (packages external, `prodmon` from src/); returns the file. */
async function bundle(name: string, code: string, outDir: string): Promise<string> {
  const esbuild = (await import('esbuild' as string)) as {
    build(o: Record<string, unknown>): Promise<unknown>;
  };
  const outfile = join(outDir, `readme-${name}.mjs`);
  await esbuild.build({
    stdin: { contents: code, resolveDir: ROOT, loader: 'ts', sourcefile: `README.md (${name}).ts` },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: externalPackages(),
    logLevel: 'error',
    outfile,
    plugins: [
      {
        name: 'prodmon-from-source',
        setup(build: {
          onResolve(o: { filter: RegExp }, f: (a: { path: string }) => { path: string }): void;
        }) {
          build.onResolve({ filter: /^prodmon(\/agent)?$/ }, (a) => ({
            path: join(ROOT, 'src', a.path === 'prodmon' ? 'index.ts' : 'agent.ts'),
          }));
        },
      },
    ],
  });
  return outfile;
}

interface Running {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a bundled example in `cwd`; resolves once `ready(base)` holds. */
async function start(
  file: string,
  port: number,
  cwd: string,
  env: Record<string, string>,
  ready: (base: string) => Promise<boolean>,
): Promise<Running> {
  const child = spawn(process.execPath, [file], {
    cwd,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  let code: number | null | undefined;
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (c) => {
      code = c;
      r(c);
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (code !== undefined) throw new Error(`the example exited (${code}) before answering:\n${out}`);
        return ready(base);
      },
      { timeout: 60_000, what: () => `the example to be ready; output:\n${out}` },
    );
  } catch (err) {
    killIfRunning(child); // the caller gets no handle on it to stop it
    throw err;
  }
  return { child, base, output: () => out, exited };
}

/** Sends 20 requests to the example route and 3 that fail; checks the answers. */
async function traffic(base: string): Promise<void> {
  for (let i = 1; i <= 20; i++) {
    const r = await fetch(`${base}/products/${i}`);
    assert.equal(r.status, 200, `GET /products/${i}`);
    await r.arrayBuffer();
  }
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${base}/fail`);
    assert.equal(r.status, 500, 'GET /fail');
    await r.arrayBuffer();
  }
}

/** Requests and failures per route in a /metrics scrape. */
async function scraped(base: string): Promise<Record<string, [number, number]>> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  const families = parsePrometheusText(await res.text());
  const out: Record<string, [number, number]> = {};
  for (const [family, k] of [
    ['prodmon_http_requests_total', 0],
    ['prodmon_http_request_errors_total', 1],
  ] as const) {
    for (const s of families.get(family)?.samples ?? []) {
      const route = s.labels.route!;
      out[route] ??= [0, 0];
      out[route][k] += s.value;
    }
  }
  return out;
}

/** Requests and failures of the last 15 minutes in `/production/api/performance`. */
async function performance(base: string, token: string): Promise<[number, number]> {
  const res = await fetch(`${base}/production/api/performance?range=15m`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { summary: { overall: { count: number; errors: number } } };
  return [body.summary.overall.count, body.summary.overall.errors];
}

/** Sends SIGTERM; the example must stop and exit by itself. */
async function terminate(run: Running): Promise<void> {
  run.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    run.exited,
    new Promise<'hung'>((r) => {
      timer = setTimeout(() => r('hung'), 30_000);
    }),
  ]);
  clearTimeout(timer);
  assert.equal(code, 0, `exit after SIGTERM:\n${run.output()}`);
}

const OPS_TOKEN = 'readme-ops-token-0123456789abcdef';
const PUSH_TOKEN = 'readme-push-token-0123456789abcdef';
const examples = readmeExamples(readme);
const outDir = join(ROOT, 'tmp', uniqueName('readme-examples'));
const dirs: { cleanup(): void }[] = [];

describe('README embedding examples, run as they are', () => {
  before(() => mkdirSync(outDir, { recursive: true }));
  after(() => {
    rmSync(outDir, { recursive: true, force: true });
    for (const d of dirs) d.cleanup();
  });

  test('the README has the five examples', () => {
    assert.deepEqual([...examples.keys()].sort(), ['agent', 'express', 'fastify', 'koa', 'node-http']);
  });

  for (const name of ['express', 'fastify', 'koa', 'node-http']) {
    test(`${name}: every request passed on is recorded, in /metrics and in the performance API`, async () => {
      const code = examples.get(name);
      assert.ok(code, `the README has the ${name} example`);
      const port = await freePort();
      const file = await bundle(name, runnable(name, code, port, ''), outDir);
      const cwd = tempDir();
      dirs.push(cwd);
      // ready once prodmon's routes answer (they are not recorded)
      const run = await start(file, port, cwd.path, { OPS_TOKEN }, async (base) => {
        const r = await fetch(`${base}/health/live`).catch(() => null);
        return r?.status === 200;
      });
      try {
        await traffic(run.base);
        assert.deepEqual(await scraped(run.base), { '/products/:id': [20, 0], '/fail': [3, 3] });
        assert.deepEqual(await performance(run.base, OPS_TOKEN), [23, 3]);
        await terminate(run);
      } finally {
        if (run.child.exitCode === null) run.child.kill('SIGKILL');
      }
    });
  }

  describe('agent', () => {
    let monitor: Monitor;
    let monitorUrl: string;
    const dir = tempDir();
    before(async () => {
      monitor = createMonitor(
        {
          data_dir: dir.path,
          logs: { stdout: false },
          instance: 'standalone',
          auth: {
            tokens: [
              { name: 'agents', token: PUSH_TOKEN, role: 'push' },
              { name: 'ops', token: OPS_TOKEN, role: 'admin' },
            ],
          },
        },
        { env: {}, fileLogs: false },
      );
      await monitor.start();
      monitorUrl = await monitor.listen('127.0.0.1', 0);
    });
    after(async () => {
      await monitor.stop({ drainDelayMs: 0 });
      dir.cleanup();
    });

    test('agent: what the app served reaches the standalone monitor when it stops', async () => {
      const code = examples.get('agent');
      assert.ok(code, 'the README has the agent example');
      const port = await freePort();
      const file = await bundle('agent', runnable('agent', code, port, monitorUrl), outDir);
      const cwd = tempDir();
      dirs.push(cwd);
      // the app has no prodmon routes, and every request it serves is recorded: ready once it accepts
      const run = await start(file, port, cwd.path, { PRODMON_PUSH_TOKEN: PUSH_TOKEN }, () =>
        tcpAccepts(port),
      );
      try {
        await traffic(run.base);
        await terminate(run); // stop() pushes what is left
      } finally {
        if (run.child.exitCode === null) run.child.kill('SIGKILL');
      }
      assert.deepEqual(await performance(monitorUrl, OPS_TOKEN), [23, 3]);
    });
  });
});
