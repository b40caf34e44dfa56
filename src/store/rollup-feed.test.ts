/**
 * The rollup feed on the running PostgreSQL: what one store publishes, another store on the same schema
 * hears (and a store of another schema, or the publisher itself, does not); a listening session ended
 * by the server comes back and says `null`; payloads stay under PostgreSQL's 8000-byte limit.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { PG_URL, pgSchema } from '../../test/support/services.js';
import { waitFor } from '../../test/support/wait.js';
import { openStore, type Store } from './index.js';
import { feedPayloads, type PgRollupFeed, parseFeedPayload, type RollupChange } from './rollup-feed.js';

describe('feed payloads', () => {
  test('many metrics and minutes: every payload under the limit, and together they name every pair once', () => {
    const rows = [];
    for (let m = 0; m < 40; m++)
      for (let b = 0; b < 60; b++)
        rows.push({ metric: `metric_${m}_${'x'.repeat(m)}`, bucket: 1_767_225_600_000 + b * 60_000 });
    const payloads = feedPayloads('abc', [...rows, ...rows]);
    assert.ok(payloads.length > 1, 'split into several');
    const seen = new Map<string, number[]>();
    for (const p of payloads) {
      assert.ok(Buffer.byteLength(p) < 8000, `${Buffer.byteLength(p)} bytes`);
      const parsed = parseFeedPayload(p)!;
      assert.equal(parsed.publisher, 'abc');
      for (const [metric, buckets] of parsed.change)
        seen.set(metric, [...(seen.get(metric) ?? []), ...buckets]);
    }
    assert.equal(seen.size, 40);
    for (const buckets of seen.values()) assert.equal(new Set(buckets).size, 60);
    assert.equal(
      [...seen.values()].reduce((n, b) => n + b.length, 0),
      40 * 60,
      'each pair once',
    );
  });

  test('what is not a payload of the feed is ignored', () => {
    for (const text of [undefined, '', 'x', '{}', '{"p":1,"m":{}}', '{"p":"a","m":{"x":3}}'])
      assert.equal(parseFeedPayload(text), null, String(text));
  });
});

describe('rollup feed on PostgreSQL', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  const open = async (schema: ReturnType<typeof pgSchema>): Promise<Store> => {
    const store = await openStore({
      driver: 'postgres',
      url: schema.url,
      schema: schema.schema,
      poolSize: 2,
    });
    cleanups.push(() => store.close());
    return store;
  };
  const schemaA = pgSchema();
  const schemaB = pgSchema();
  cleanups.push(
    () => schemaA.drop(),
    () => schemaB.drop(),
  );

  test('a write told by one store is heard by the others of its schema, not by itself or another schema', async () => {
    const writer = await open(schemaA);
    const reader = await open(schemaA);
    const stranger = await open(schemaB);
    const heard: (RollupChange | null)[] = [];
    const own: (RollupChange | null)[] = [];
    const other: (RollupChange | null)[] = [];
    reader.rollupFeed!.subscribe((c) => heard.push(c));
    writer.rollupFeed!.subscribe((c) => own.push(c));
    stranger.rollupFeed!.subscribe((c) => other.push(c));
    for (const s of [reader, writer, stranger])
      await waitFor(() => (s.rollupFeed as PgRollupFeed).listening, {
        timeout: 10_000,
        what: 'the listening session',
      });

    await writer.rollupFeed!.publish([
      { metric: 'http_request_duration_ms', bucket: 60_000 },
      { metric: 'http_request_duration_ms', bucket: 120_000 },
      { metric: 'db_query_duration_ms', bucket: 60_000 },
    ]);
    await waitFor(() => heard.length > 0, { timeout: 10_000, what: 'the reader to hear the write' });
    assert.deepEqual(heard, [
      new Map([
        ['http_request_duration_ms', [60_000, 120_000]],
        ['db_query_duration_ms', [60_000]],
      ]),
    ]);
    // A later write of the reader reaches the writer: so the writer's session has seen everything
    // sent before it (notifications arrive in commit order), and its own was not told back to it.
    await reader.rollupFeed!.publish([{ metric: 'm', bucket: 0 }]);
    await waitFor(() => own.length > 0, { timeout: 10_000, what: 'the writer to hear the reader' });
    assert.deepEqual(own, [new Map([['m', [0]]])], 'its own write is not told back');
    // Another schema's write, then one of this schema: once the reader hears the second, the first
    // would have arrived before it (a session gets notifications in commit order).
    await stranger.rollupFeed!.publish([{ metric: 'n', bucket: 0 }]);
    await writer.rollupFeed!.publish([{ metric: 'later', bucket: 0 }]);
    await waitFor(() => heard.length > 1, { timeout: 10_000, what: 'the reader to hear the later write' });
    assert.deepEqual(heard[1], new Map([['later', [0]]]), 'another schema’s write was not heard');
    assert.deepEqual(other, [], 'nor did the other schema hear this one’s');
  });

  test('a listening session ended by the server comes back and says that writes may have been missed', async () => {
    const writer = await open(schemaA);
    const reader = await open(schemaA);
    const heard: (RollupChange | null)[] = [];
    reader.rollupFeed!.subscribe((c) => heard.push(c));
    const feed = reader.rollupFeed as PgRollupFeed;
    await waitFor(() => feed.listening, { timeout: 10_000, what: 'the listening session' });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const r = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
          where application_name = 'prodmon-feed' and query like $1`,
        [`LISTEN "${feed.channel}"%`],
      );
      assert.ok((r.rowCount ?? 0) >= 1, 'a listening session ended');
    } finally {
      await admin.end();
    }
    await waitFor(() => heard.includes(null), {
      timeout: 15_000,
      what: 'the reader to say it may have missed writes',
    });
    await writer.rollupFeed!.publish([{ metric: 'after', bucket: 0 }]);
    await waitFor(() => heard.some((c) => c?.has('after')), {
      timeout: 10_000,
      what: 'a write heard after the drop',
    });
  });
});
