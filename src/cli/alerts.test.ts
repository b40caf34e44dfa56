/** `prodmon alerts ...` as a user runs it, on the store of a data directory (no server). */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { storeUnboundedSilence, testEngine } from '../../test/support/alerting.js';
import { runCli } from '../../test/support/cli.js';
import { tempDir } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import { METRIC } from '../metrics/names.js';
import { openStore } from '../store/index.js';

describe('prodmon alerts', () => {
  const dir = tempDir();
  const db = join(dir.path, '.prodmon', 'prodmon.db');
  let id = '';

  before(async () => {
    mkdirSync(join(dir.path, '.prodmon'), { recursive: true });
    const store = await openStore({ driver: 'sqlite', path: db });
    await store.migrate(Date.now());
    const { engine, metrics } = testEngine({ store, clock: new FakeClock(Date.now() - 60_000) });
    await engine.start({ loop: false });
    metrics.set(METRIC.httpRequest, { route: '/checkout' }, 2500);
    await engine.evaluateNow();
    await engine.stop();
    id = (await store.alerts.listOpen())[0]!.id;
    await store.close();
  });
  after(() => dir.cleanup());

  const cli = (...args: string[]) => runCli(['alerts', ...args], { cwd: dir.path });

  test('list shows the active alerts (table and --json); show prints the history', async () => {
    const json = await cli('list', '--json');
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as {
      alerts: { id: string; status: string; threshold: number }[];
      total: number;
    };
    assert.deepEqual(
      body.alerts.map((a) => [a.id, a.status, a.threshold]),
      [[id, 'firing', 2000]],
    );
    const text = await cli();
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(`${id}.*firing.*critical.*api_response_time.*route=/checkout.*2500 / 2000`),
    );
    const show = await cli('show', id);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /message: {3}p95 response time of \/checkout is 2500 ms \(threshold 2000 ms\)/);
    assert.match(show.stdout, /history:[\s\S]*firing[\s\S]*critical/);
    assert.equal((await cli('show', 'al_nope')).code, 1);
    const bad = await cli('list', '--status', 'open');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"status" must be among/);
  });

  test('resolve needs a reason, records who and why, and refuses a second resolution', async () => {
    const noReason = await cli('resolve', id);
    assert.equal(noReason.code, 2);
    assert.match(noReason.stderr, /--reason/);
    const ok = await cli('resolve', id, '--reason', 'rolled back', '--by', 'ana');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      new RegExp(`resolved ${id} \\(api_response_time route=/checkout\\) by ana: rolled back`),
    );
    const again = await cli('resolve', id, '--reason', 'twice');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already resolved .* by ana/);
    assert.equal((await cli('resolve', 'al_nope', '--reason', 'x')).code, 1);

    const store = await openStore({ driver: 'sqlite', path: db });
    try {
      const a = await store.alerts.get(id);
      assert.deepEqual(
        [a?.status, a?.resolution?.by, a?.resolution?.reason],
        ['resolved', 'ana', 'rolled back'],
      );
      // Told of the firing, so its resolution is owed to the running monitor's notifications.
      assert.equal((a?.state.notify as { notice?: string } | undefined)?.notice, 'owed');
      const audit = (await store.audit.list({ target: id })).filter((e) => e.actor !== 'sink');
      assert.deepEqual(
        audit.map((e) => [e.action, e.actor]),
        [['alert.resolve', 'ana']],
      );
    } finally {
      await store.close();
    }
    assert.match((await cli('list')).stdout, /no active alerts/);
  });

  test('silence --rule --for --comment, silences lists it, expire ends it; a silence needs a matcher', async () => {
    const made = await cli(
      'silence',
      '--rule',
      'api_response_time',
      '--for',
      '30m',
      '--comment',
      'deploy',
      '--json',
    );
    assert.equal(made.code, 0, made.stderr);
    const s = (
      JSON.parse(made.stdout) as {
        silence: { id: string; state: string; matchers: unknown; endsAt: number; startsAt: number };
      }
    ).silence;
    assert.deepEqual(
      [s.state, s.matchers, s.endsAt - s.startsAt],
      ['active', { rule: 'api_response_time' }, 30 * 60_000],
    );
    const listed = await cli('silences');
    assert.match(listed.stdout, new RegExp(`${s.id}.*active.*api_response_time.*deploy`));
    assert.equal((await cli('expire', s.id)).code, 0);
    assert.match((await cli('silences')).stdout, /no silences/);
    const noMatcher = await cli('silence', '--for', '30m', '--comment', 'x');
    assert.equal(noMatcher.code, 2);
    assert.match(noMatcher.stderr, /needs a matcher/);
    const label = await cli(
      'silence',
      '--label',
      'route=/checkout',
      '--until',
      new Date(Date.now() + 7 * 86_400_000).toISOString(),
      '--comment',
      'x',
      '--json',
    );
    assert.deepEqual((JSON.parse(label.stdout) as { silence: { matchers: unknown } }).silence.matchers, {
      labels: { route: '/checkout' },
    });
  });

  test('silence bounds: --for, --until and --start beyond 90 days, or --for without a unit, exit 2 naming the flag; nothing is stored', async () => {
    const cases: [string[], RegExp][] = [
      [['--for', '999999999d'], /--for must be more than 0 and at most 90d/],
      [['--for', '30'], /--for: 30 has no unit; write "30s" \(or "30ms"\)/],
      [['--until', '9999-12-31T00:00:00Z'], /--until must be at most 90d after the silence starts/],
      [
        ['--start', new Date(Date.now() + 100 * 86_400_000).toISOString(), '--for', '1h'],
        /--start must be at most 90d ahead/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli('silence', '--rule', 'bounded', ...args, '--comment', 'x');
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const list = await cli('silences', '--all', '--json');
    const rules = (JSON.parse(list.stdout) as { silences: { matchers: { rule?: string } }[] }).silences;
    assert.equal(rules.filter((s) => s.matchers.rule === 'bounded').length, 0);
  });

  test('a silence stored before the bounds, ending beyond any date, is listed (ending "never"), not a crash', async () => {
    const store = await openStore({ driver: 'sqlite', path: db });
    const now = Date.now();
    try {
      await storeUnboundedSilence(store, 'si_old_unbounded', now);
    } finally {
      await store.close();
    }
    const r = await cli('silences');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /si_old_unbounded.*active.*legacy.*never.*stored before the bounds/);
    const expired = await cli('expire', 'si_old_unbounded');
    assert.equal(expired.code, 0, expired.stderr);
  });

  test('in a data directory prodmon never ran from, list says there is nothing', async () => {
    const empty = tempDir();
    try {
      const r = await runCli(['alerts', 'list'], { cwd: empty.path });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'no active alerts\n');
    } finally {
      empty.cleanup();
    }
  });
});
