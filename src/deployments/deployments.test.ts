/** Deploy markers: validation (every limit, named as the caller knows it), which marker an alert follows, the wording. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afterText, deployText } from '../alerting/message.js';
import { ProdmonError } from '../core/errors.js';
import type { Deployment } from '../domain/deployment.js';
import { appliesTo, DEPLOY_KEY, deployBefore, deployOf, RecentDeploys } from './annotate.js';
import { API_FIELDS, buildDeployment, CLI_FIELDS, markRequestFromBody } from './mark.js';
import { deploymentQuery } from './query.js';

const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
const MIN = 60_000;

/** The message of the 400 (exit code 2) a request is refused with. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProdmonError, String(err));
    assert.equal(err.code, 'PRODMON_E_BAD_REQUEST');
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('accepted');
}

describe('recording a marker: validation', () => {
  const build = (req: Record<string, unknown>, fields = API_FIELDS) =>
    buildDeployment({ by: 'ci', ...req }, NOW, fields);

  test('a version alone is a marker of the whole service, now', () => {
    const d = build({ version: '  v1.4.2 ' });
    assert.match(d.id, /^dp_/);
    assert.deepEqual(
      { ...d, id: '' },
      { id: '', version: 'v1.4.2', instance: null, note: null, at: NOW, by: 'ci' },
    );
    const full = build({
      version: 'v2',
      instance: 'web-1/a:b@c',
      note: ' rolled out by canary ',
      at: NOW - MIN,
    });
    assert.deepEqual([full.instance, full.note, full.at], ['web-1/a:b@c', 'rolled out by canary', NOW - MIN]);
    assert.equal(build({ version: 'v2', at: '2026-05-01T11:00:00Z' }).at, NOW - 60 * MIN, 'ISO time');
    assert.equal(build({ version: 'v2', at: String(NOW - 5) }).at, NOW - 5, 'ms in text (a CLI option)');
    assert.equal(build({ version: 'v2', note: '', instance: null }).note, null, 'an empty note is none');
  });

  test('each limit is enforced exactly at its bound, the message naming the field', () => {
    assert.equal(build({ version: 'v'.repeat(128) }).version.length, 128);
    assert.equal(
      refusal(() => build({ version: 'v'.repeat(129) })),
      '"version" is longer than 128 characters',
    );
    assert.equal(build({ version: 'v', instance: 'i'.repeat(200) }).instance?.length, 200);
    assert.match(
      refusal(() => build({ version: 'v', instance: 'i'.repeat(201) })),
      /^"instance" must be 1-200/,
    );
    assert.equal(build({ version: 'v', note: 'n'.repeat(1000) }).note?.length, 1000);
    assert.equal(
      refusal(() => build({ version: 'v', note: 'n'.repeat(1001) })),
      '"note" is longer than 1000 characters',
    );
    assert.equal(build({ version: 'v', at: NOW + 5 * MIN }).at, NOW + 5 * MIN);
    assert.equal(
      refusal(() => build({ version: 'v', at: NOW + 5 * MIN + 1 })),
      '"at" is more than 5m in the future',
    );
    assert.equal(
      refusal(() => build({ version: 'v', by: 'b'.repeat(201) })),
      'the caller is longer than 200 characters',
    );
  });

  test('missing, empty, wrong types and bad text are refused naming the field', () => {
    assert.equal(
      refusal(() => build({})),
      '"version" is required (the version deployed, e.g. v1.4.2)',
    );
    assert.equal(
      refusal(() => build({ version: '   ' })),
      '"version" must not be empty (the version deployed, e.g. v1.4.2)',
    );
    assert.equal(
      refusal(() => build({ version: 142 })),
      '"version" must be a string',
    );
    assert.match(
      refusal(() => build({ version: 'v1\nv2' })),
      /^"version" must not hold control characters/,
    );
    assert.match(
      refusal(() => build({ version: 'v', instance: 'web 1' })),
      /^"instance" must be 1-200 characters of letters/,
    );
    assert.match(
      refusal(() => build({ version: 'v', instance: '' })),
      /^"instance" must be/,
    );
    assert.equal(
      refusal(() => build({ version: 'v', note: 5 })),
      '"note" must be a string',
    );
    assert.match(
      refusal(() => build({ version: 'v', at: 'yesterday' })),
      /^"at" must be an ISO date-time or ms/,
    );
    assert.match(
      refusal(() => build({ version: 'v', at: -1 })),
      /^"at" must be .*1970 to 9999/,
    );
    assert.match(
      refusal(() => build({ version: 'v', at: true })),
      /^"at" must be an ISO date-time/,
    );
  });

  test('the CLI gets the same checks with its option names', () => {
    assert.equal(
      refusal(() => build({}, CLI_FIELDS)),
      '--version is required (the version deployed, e.g. v1.4.2)',
    );
    assert.equal(
      refusal(() => build({ version: 'v'.repeat(129) }, CLI_FIELDS)),
      '--version is longer than 128 characters',
    );
    assert.match(
      refusal(() => build({ version: 'v', instance: 'a b' }, CLI_FIELDS)),
      /^--instance must be/,
    );
    assert.equal(
      refusal(() => build({ version: 'v', at: NOW + 6 * MIN }, CLI_FIELDS)),
      '--at is more than 5m in the future',
    );
    assert.equal(
      refusal(() => build({ version: 'v', by: '' }, CLI_FIELDS)),
      '--by must not be empty (who records it)',
    );
  });

  test('a JSON body: an object of version, instance, note and at; who records it is the caller', () => {
    assert.deepEqual(markRequestFromBody({ version: 'v1', note: 'x' }, 'ci-token'), {
      version: 'v1',
      instance: undefined,
      note: 'x',
      at: undefined,
      by: 'ci-token',
    });
    assert.equal(
      refusal(() => markRequestFromBody({ version: 'v1', instace: 'web-1' }, 'ci')),
      'unknown key "instace" (did you mean "instance"?)',
    );
    assert.match(
      refusal(() => markRequestFromBody({ version: 'v1', by: 'someone' }, 'ci')),
      /unknown key "by"/,
    );
    for (const body of [null, [], 'v1', 3])
      assert.match(
        refusal(() => markRequestFromBody(body, 'ci')),
        /^expected a JSON object/,
      );
  });

  test('the list filters: times as ISO, ms or a duration back; limit 1 to 1000 (default 100)', () => {
    assert.deepEqual(deploymentQuery({}, NOW), { limit: 100 });
    assert.deepEqual(
      deploymentQuery({ since: '7d', until: String(NOW - MIN), instance: 'web-1', limit: '1000' }, NOW),
      {
        since: NOW - 7 * 86_400_000,
        until: NOW - MIN,
        instance: 'web-1',
        limit: 1000,
      },
    );
    assert.deepEqual(
      deploymentQuery({ instance: '', limit: '' }, NOW),
      { limit: 100 },
      'empty values are no filter',
    );
    assert.equal(
      refusal(() => deploymentQuery({ limit: '1001' }, NOW)),
      '"limit" must be an integer from 1 to 1000',
    );
    assert.equal(
      refusal(() => deploymentQuery({ limit: '0' }, NOW)),
      '"limit" must be an integer from 1 to 1000',
    );
    assert.match(
      refusal(() => deploymentQuery({ since: 'last week' }, NOW)),
      /^"since" must be a time/,
    );
    assert.match(
      refusal(() => deploymentQuery({ instance: 'a b' }, NOW)),
      /^"instance" must be 1-200/,
    );
    assert.match(
      refusal(() => deploymentQuery({ since: ['1h', '2h'] }, NOW)),
      /"since" must be given once/,
    );
  });
});

describe('which deploy an alert follows', () => {
  const m = (
    version: string,
    at: number,
    instance: string | null = null,
    id = `dp_${version}`,
  ): Deployment => ({
    id,
    version,
    instance,
    note: null,
    at,
    by: 'ci',
  });
  const W = 30 * MIN;

  test('the newest marker at or before the firing, within the window', () => {
    const list = [
      m('v1', NOW - 40 * MIN),
      m('v2', NOW - 20 * MIN),
      m('v3', NOW - 3 * MIN),
      m('v4', NOW + MIN),
    ];
    assert.equal(deployBefore(list, {}, NOW, W)?.version, 'v3', 'not the one after the firing');
    assert.equal(deployBefore(list, {}, NOW - 10 * MIN, W)?.version, 'v2');
    assert.equal(deployBefore([m('v1', NOW - W)], {}, NOW, W)?.version, 'v1', 'the window is inclusive');
    assert.equal(deployBefore([m('v1', NOW - W - 1)], {}, NOW, W), null, 'just outside the window');
    assert.equal(deployBefore([m('v1', NOW)], {}, NOW, W)?.version, 'v1', 'deployed the same millisecond');
    assert.equal(deployBefore([], {}, NOW, W), null);
    assert.deepEqual(deployBefore([m('v3', NOW - MIN, 'web-1')], { instance: 'web-1' }, NOW, W), {
      id: 'dp_v3',
      version: 'v3',
      instance: 'web-1',
      at: NOW - MIN,
    });
    const tie = [m('a', NOW - MIN, null, 'dp_1'), m('b', NOW - MIN, null, 'dp_2')];
    assert.equal(deployBefore(tie, {}, NOW, W)?.version, 'b', 'same time: the later id');
  });

  test('a marker of one instance applies only to alerts labelled with that instance; a global one to all', () => {
    const web1 = m('v-web1', NOW - 2 * MIN, 'web-1');
    const global = m('v-all', NOW - 10 * MIN);
    assert.equal(appliesTo(web1, { instance: 'web-1', route: '/a' }), true);
    assert.equal(appliesTo(web1, { instance: 'web-2' }), false);
    assert.equal(appliesTo(web1, { route: '/a' }), false, 'an alert without an instance label');
    assert.equal(appliesTo(global, {}), true);
    assert.equal(deployBefore([web1, global], { instance: 'web-1' }, NOW, W)?.version, 'v-web1');
    assert.equal(deployBefore([web1, global], { instance: 'web-2' }, NOW, W)?.version, 'v-all');
    assert.equal(deployBefore([web1, global], {}, NOW, W)?.version, 'v-all');
    assert.equal(deployBefore([web1], { route: '/checkout' }, NOW, W), null);
  });

  test('the wording: firing 3 min after deploy v1.4.2 (fired once resolved)', () => {
    const meta = {
      [DEPLOY_KEY]: { id: 'dp_1', version: 'v1.4.2', instance: null, at: NOW - 3 * MIN - 59_000 },
    };
    assert.equal(
      deployText({ status: 'firing', firingAt: NOW, metadata: meta }),
      'firing 3 min after deploy v1.4.2',
    );
    assert.equal(
      deployText({ status: 'resolved', firingAt: NOW, metadata: meta }),
      'fired 3 min after deploy v1.4.2',
    );
    const one = { [DEPLOY_KEY]: { id: 'dp_2', version: 'v9', instance: 'web-1', at: NOW - 40_000 } };
    assert.equal(
      deployText({ status: 'firing', firingAt: NOW, metadata: one }),
      'firing 40 s after deploy v9 on web-1',
    );
    assert.equal(deployText({ status: 'firing', firingAt: NOW, metadata: {} }), '');
    assert.equal(deployText({ status: 'pending', firingAt: null, metadata: meta }), '');
    assert.equal(deployOf({ [DEPLOY_KEY]: 'v1' }), null, 'metadata that is not a marker');
    assert.deepEqual([0, 59_999, 60_000, 3_599_999, 3_600_000, 3_900_000].map(afterText), [
      '0 s',
      '59 s',
      '1 min',
      '59 min',
      '1 h',
      '1 h 5 min',
    ]);
  });

  test('the engine reads the window once per second at most (always on a full evaluation), never with a window of 0', async () => {
    const reads: [number, number][] = [];
    const recent = new RecentDeploys(async (since, until) => {
      reads.push([since, until]);
      return [m('v1', since + 1)];
    }, W);
    assert.equal((await recent.at(NOW)).length, 1);
    await recent.at(NOW + 999);
    assert.deepEqual(reads, [[NOW - W, NOW + 1]]);
    await recent.at(NOW + 999, true);
    await recent.at(NOW + 2000);
    assert.equal(reads.length, 3);
    const off = new RecentDeploys(async () => assert.fail('read with the window off'), 0);
    assert.deepEqual(await off.at(NOW), []);
    assert.equal(off.lookup([], NOW)({}), null);
  });
});
