/** The option schemas config validation reads are the ones each kind's implementation is built with. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NOTIFIER_OPTIONS } from '../notifiers/kinds.js';
import { NOTIFIER_KINDS } from '../notifiers/registry.js';
import { CHECK_OPTIONS } from './kinds.js';
import { CHECK_KINDS } from './registry.js';

test('every check kind validates with the option shape its implementation uses', () => {
  assert.deepEqual(
    CHECK_OPTIONS.map((o) => o.kind),
    CHECK_KINDS.map((d) => d.kind),
  );
  for (const def of CHECK_KINDS) {
    const opts = CHECK_OPTIONS.find((o) => o.kind === def.kind);
    assert.deepEqual(Object.keys(opts?.shape ?? {}), Object.keys(def.shape), def.kind);
    for (const key of Object.keys(def.shape))
      assert.equal(opts?.shape[key], def.shape[key], `${def.kind}.${key}`);
  }
});

test('every channel kind validates with the option shape its implementation uses', () => {
  assert.deepEqual(
    NOTIFIER_OPTIONS.map((o) => o.kind),
    NOTIFIER_KINDS.map((d) => d.kind),
  );
  for (const def of NOTIFIER_KINDS) {
    const opts = NOTIFIER_OPTIONS.find((o) => o.kind === def.kind);
    assert.equal(opts?.shape, def.shape, def.kind);
  }
});
