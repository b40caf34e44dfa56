import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkFrom } from '../../../test/support/health.js';
import type { SelfProbe } from '../types.js';

function source(probes: Record<string, SelfProbe>) {
  return { probes: () => new Map(Object.entries(probes)) };
}

describe('self check', () => {
  test('the worst probe wins, and each probe is reported', async () => {
    const r = await checkFrom(
      { name: 'self', kind: 'self' },
      {
        self: source({
          store: () => ({ status: 'healthy', detail: { latencyMs: 1 } }),
          outbox: async () => ({ status: 'degraded', detail: '1200 notifications waiting' }),
          logger: () => ({ status: 'healthy' }),
        }),
      },
    ).run();
    assert.equal(r.status, 'degraded');
    assert.equal(r.error, 'outbox: degraded (1200 notifications waiting)');
    assert.deepEqual(r.details.probes, {
      store: { status: 'healthy', detail: { latencyMs: 1 } },
      outbox: { status: 'degraded', detail: '1200 notifications waiting' },
      logger: { status: 'healthy', detail: null },
    });
  });

  test('a probe that throws is unhealthy with its message; the others still report', async () => {
    const r = await checkFrom(
      { name: 'self', kind: 'self' },
      {
        self: source({
          store: async () => {
            throw new Error('SQLITE_BUSY: database is locked');
          },
          logger: () => ({
            status: 'degraded',
            detail: { error: 'ENOSPC: no space left on device', dropped: 3 },
          }),
        }),
      },
    ).run();
    assert.equal(r.status, 'unhealthy');
    assert.equal(
      r.error,
      'store: unhealthy (SQLITE_BUSY: database is locked); logger: degraded (ENOSPC: no space left on device)',
    );
  });

  test('no probes is healthy', async () => {
    const r = await checkFrom({ name: 'self', kind: 'self' }, { self: source({}) }).run();
    assert.equal(r.status, 'healthy');
  });
});
