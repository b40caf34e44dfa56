/** The gate's requests: defaults, bounds, and every bad value named as the flag (CLI) or the field (HTTP). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProdmonError } from '../core/errors.js';
import { DEFAULT_SETTINGS } from './compare.js';
import { cliLabel, jsonLabel, parseCompareRequest, parseName, parseSaveRequest } from './request.js';
import { routeMatcher } from './window.js';

const NOW = Date.UTC(2026, 2, 1, 12, 0);

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProdmonError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.code, 'PRODMON_E_BAD_REQUEST');
    assert.match(err.message, message);
    return true;
  });
}

describe('compare requests', () => {
  test('defaults: 10 minutes, p95 +10 %, error rate +0.5pp, 200 requests, 5 ms floor, alpha 0.05', () => {
    assert.deepEqual(parseCompareRequest({ baseline: 'b1' }, cliLabel, NOW), {
      baseline: 'b1',
      sinceMs: 600_000,
      settings: DEFAULT_SETTINGS,
    });
    assert.deepEqual(DEFAULT_SETTINGS, {
      maxP95: 0.1,
      maxP99: null,
      maxErrorRate: 0.005,
      minRequests: 200,
      minDeltaMs: 5,
      alpha: 0.05,
    });
  });

  test('values as typed: percentages, points, off, times and durations back', () => {
    const r = parseCompareRequest(
      {
        before_deploy: ' 4.2.0 ',
        since: '15m',
        until: '2h',
        instance: 'web-1',
        route: 'GET /api/**',
        max_p95: '+12.5%',
        max_p99: '20%',
        max_error_rate: 'off',
        min_requests: '500',
        min_delta: '20ms',
        alpha: '0.01',
      },
      cliLabel,
      NOW,
    );
    assert.deepEqual(r, {
      beforeDeploy: '4.2.0',
      sinceMs: 900_000,
      until: NOW - 7_200_000,
      instance: 'web-1',
      route: 'GET /api/**',
      settings: {
        maxP95: 0.125,
        maxP99: 0.2,
        maxErrorRate: null,
        minRequests: 500,
        minDeltaMs: 20,
        alpha: 0.01,
      },
    });
    assert.equal(
      parseCompareRequest({ baseline: 'b', until: '2026-03-01T10:00:00Z' }, cliLabel, NOW).until,
      NOW - 7_200_000,
    );
    assert.equal(
      parseCompareRequest({ baseline: 'b', max_error_rate: 0.25 }, jsonLabel, NOW).settings.maxErrorRate,
      0.0025,
    );
  });

  test('each bad value names its flag on the command line', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /give a baseline name \(--baseline\) or --before-deploy <version>, one of them/],
      [{ baseline: 'b', before_deploy: 'v' }, /not both/],
      [{ baseline: 'b', since: '10' }, /--since 10 has no unit; write "10s"/],
      [{ baseline: 'b', since: '2m' }, /--since must be at least 3m, got "2m"/],
      [{ baseline: 'b', since: '25h' }, /--since must be at most 1d/],
      [{ baseline: 'b', since: '210s' }, /--since must be whole minutes/],
      [{ baseline: 'b', until: 'soon' }, /--until: expected an ISO date-time/],
      [
        { baseline: 'b', max_p95: '10' },
        /--max-p95 must be an increase from "\+0.1%" to "\+1000%" \(or "off"\), got "10"/,
      ],
      [{ baseline: 'b', max_p95: '-5%' }, /--max-p95 must be an increase/],
      [{ baseline: 'b', max_p95: '1001%' }, /--max-p95 must be an increase/],
      [{ baseline: 'b', max_p99: 'lots' }, /--max-p99 must be an increase/],
      [
        { baseline: 'b', max_error_rate: '1%' },
        /--max-error-rate must be percentage points from "\+0pp" to "\+100pp"/,
      ],
      [{ baseline: 'b', max_error_rate: '101pp' }, /--max-error-rate must be percentage points/],
      [
        { baseline: 'b', min_requests: '9' },
        /--min-requests must be an integer from 10 to 10000000, got "9"/,
      ],
      [{ baseline: 'b', min_requests: '2.5' }, /--min-requests must be an integer/],
      [{ baseline: 'b', min_delta: '61s' }, /--min-delta must be at most 60s/],
      [{ baseline: 'b', alpha: '0' }, /--alpha must be a number from 0.000001 to 0.5, got "0"/],
      [{ baseline: 'b', alpha: 'x' }, /--alpha must be a number/],
      [{ baseline: 'b', route: '  ' }, /--route must not be empty/],
      [{ baseline: 'b', instance: 'i'.repeat(201) }, /--instance is longer than 200 characters/],
      [
        { baseline: 'b', max_p95: 'off', max_p99: 'off', max_error_rate: 'off' },
        /nothing to check: --max-p95, --max-p99 and --max-error-rate are all off/,
      ],
      [{ baseline: 'b/../x' }, /--baseline must be 1 to 64 characters of letters, digits/],
    ];
    for (const [input, message] of cases) refused(() => parseCompareRequest(input, cliLabel, NOW), message);
  });

  test('over HTTP the field is named, and an unknown field is refused', () => {
    refused(
      () => parseCompareRequest({ baseline: 'b', max_p95: 'x' }, jsonLabel, NOW),
      /^"max_p95" must be an increase/,
    );
    refused(
      () => parseCompareRequest({ baseline: 'b', maxP95: '10%' }, jsonLabel, NOW),
      /unknown field "maxP95"/,
    );
    refused(() => parseCompareRequest([], jsonLabel, NOW), /expected a JSON object/);
  });
});

describe('save requests and names', () => {
  test('--since or --from/--to; names are bounded', () => {
    assert.deepEqual(parseSaveRequest({ name: 'pre-4.2_rc.1' }, cliLabel, NOW), {
      name: 'pre-4.2_rc.1',
      force: false,
    });
    assert.deepEqual(parseSaveRequest({ name: 'a', from: '3h', to: '1h', force: true }, cliLabel, NOW), {
      name: 'a',
      from: NOW - 3 * 3_600_000,
      to: NOW - 3_600_000,
      force: true,
    });
    refused(
      () => parseSaveRequest({ name: 'a', since: '30m', to: '1h' }, cliLabel, NOW),
      /--since or --from\/--to, not both/,
    );
    refused(() => parseSaveRequest({ name: 'a', from: '1h' }, cliLabel, NOW), /--from and --to go together/);
    refused(
      () => parseSaveRequest({ name: 'x'.repeat(65) }, cliLabel, NOW),
      /<name> must be 1 to 64 characters/,
    );
    assert.equal(parseName('x'.repeat(64), cliLabel), 'x'.repeat(64));
    refused(() => parseName('', jsonLabel), /"name" must be 1 to 64/);
  });
});

describe('route globs', () => {
  test('* stays within a path segment, ** crosses them, ? is one character; a leading method matches the method', () => {
    const m = (glob: string, method: string, route: string) => routeMatcher(glob)(method, route);
    assert.ok(m('/api/*', 'GET', '/api/products'));
    assert.ok(!m('/api/*', 'GET', '/api/products/:id'));
    assert.ok(m('/api/**', 'POST', '/api/carts/:id/items'));
    assert.ok(m('/api/product?', 'GET', '/api/products'));
    assert.ok(!m('/api/product?', 'GET', '/api/product/'));
    assert.ok(m('GET /api/**', 'get', '/api/x'));
    assert.ok(!m('GET /api/**', 'POST', '/api/x'));
    assert.ok(m('/a.b+(c)', 'GET', '/a.b+(c)'), 'other characters are themselves');
    assert.ok(!m('/a.b', 'GET', '/aXb'));
    assert.throws(
      () => routeMatcher('x'.repeat(201)),
      /--route: expected a route glob .* of 1 to 200 characters/,
    );
  });
});
