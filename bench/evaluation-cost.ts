/**
 * Evaluation cost of the alert engine: 1,000 rules, each over 1,000 label sets, per tick, with a
 * synthetic metric source (this measures the engine, not the metrics reads) and a real SQLite store.
 * Ticks are a minute apart on a fake clock (the default evaluation interval):
 *   - quiet: nothing breaches, nothing is open (the common case);
 *   - breach: 1 % of the label sets cross the critical threshold (10,000 alerts created, stored, handed over);
 *   - steady: those 10,000 alerts stay firing (values change, nothing to tell; persisted at most once a minute);
 *   - clear: they all resolve.
 * Side by side: the pure `evaluate` of the same 1,000,000 (rule, value) pairs, without the engine.
 *
 *   node --import tsx bench/evaluation-cost.ts         (BENCH_RULES=1000 BENCH_LABELS=1000)
 */
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { AlertEngine } from '../src/alerting/engine.js';
import { evaluate } from '../src/alerting/evaluate.js';
import { buildRules } from '../src/alerting/rules.js';
import type { MetricSource, WindowQuery, WindowValue } from '../src/alerting/sources.js';
import type { TransitionSink } from '../src/alerting/transition.js';
import { parseConfig } from '../src/config/load.js';
import { FakeClock } from '../src/core/clock.js';
import { openStore } from '../src/store/index.js';
import { tempDir } from '../test/support/services.js';
import { table } from './support.js';

const RULES = Math.min(5000, Number(process.env.BENCH_RULES ?? 1000));
const LABELS = Math.min(5000, Number(process.env.BENCH_LABELS ?? 1000));
const M = 60_000;

/** Every metric has LABELS series; `level(rule, i)` is the value of series i. */
class SyntheticMetrics implements MetricSource {
  breaching = 0;
  tick = 0;
  readonly #labels = Array.from({ length: LABELS }, (_, i) => ({ route: `/r${i}` }));
  async windowValues(q: WindowQuery): Promise<WindowValue[]> {
    const out: WindowValue[] = new Array(LABELS);
    for (let i = 0; i < LABELS; i++) {
      const hot = i < this.breaching;
      out[i] = {
        labels: this.#labels[i]!,
        value: hot ? 2500 + (this.tick % 7) : 50 + (i % 40),
        count: 100,
        errors: 0,
      };
    }
    void q;
    return out;
  }
  onData(): undefined {
    return undefined;
  }
}

const config = parseConfig(
  {
    alerting: {
      thresholds: Object.fromEntries(
        [
          'api_response_time',
          'database_query_time',
          'memory_usage',
          'cpu_usage',
          'error_rate',
          'disk_usage',
        ].map((n) => [n, { enabled: false }]),
      ),
      health_checks: { enabled: false },
      rules: Array.from({ length: RULES }, (_, r) => ({
        name: `rule_${r}`,
        metric: `metric_${r}`,
        group_by: ['route'],
        warning: 500,
        critical: 2000,
      })),
    },
  },
  { env: {}, dataDir: '/tmp/prodmon-bench' },
).alerting;

const dir = tempDir('prodmon-bench-');
const store = await openStore({ driver: 'sqlite', path: join(dir.path, 'prodmon.db') });
await store.migrate(Date.now());
const clock = new FakeClock(Date.UTC(2026, 0, 1));
const metrics = new SyntheticMetrics();
let handed = 0;
const sink: TransitionSink = { accept: async () => void handed++ };
const engine = new AlertEngine({ store, clock, config, metrics, sink });
await engine.start({ loop: false });

async function tick(name: string, breaching: number): Promise<(string | number)[]> {
  clock.set(clock.now() + M);
  metrics.breaching = breaching;
  metrics.tick++;
  const before = handed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await engine.evaluateNow();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const open = engine.openAlerts().length;
  return [
    name,
    `${Math.round(ms)} ms`,
    `${Math.round(cpuMs)} ms`,
    `${((ms * 1000) / RULES).toFixed(1)} µs`,
    `${((ms * 1e6) / (RULES * LABELS)).toFixed(0)} ns`,
    open,
    handed - before,
  ];
}

const hot = Math.round(LABELS / 100);
const rows = [
  await tick('quiet', 0),
  await tick('quiet', 0),
  await tick('breach (1 %)', hot),
  await tick('steady', hot),
  await tick('steady', hot),
  await tick('clear', 0),
  await tick('quiet', 0),
];

// The pure evaluation of the same pairs, no engine around it.
const rules = buildRules(config).filter((r) => r.name.startsWith('rule_'));
const t0 = performance.now();
let fired = 0;
for (const rule of rules)
  for (let i = 0; i < LABELS; i++)
    if (evaluate(rule, { value: 50 + (i % 40) }, undefined, clock.now()).kind !== 'none') fired++;
const pure = performance.now() - t0;

process.stdout.write(
  `${RULES} rules x ${LABELS} label sets = ${RULES * LABELS} evaluations per tick (SQLite store; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs)\n`,
);
table(['tick', 'wall', 'cpu', 'wall per rule', 'wall per label set', 'open alerts', 'handed over'], rows);
process.stdout.write(
  `\npure evaluate() of the quiet pairs: ${Math.round(pure)} ms (${((pure * 1000) / RULES).toFixed(1)} µs per rule); ` +
    `quiet engine tick / pure = ${((Number.parseFloat(String(rows[1]![1])) || 0) / pure).toFixed(2)}x${fired ? ' (!)' : ''}\n`,
);

await engine.stop();
await store.close();
dir.cleanup();
