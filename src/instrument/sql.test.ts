import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sqlOperation } from './sql.js';

test('statements are classified by their first keyword, whatever the case and leading noise', () => {
  assert.equal(sqlOperation('SELECT * FROM t'), 'select');
  assert.equal(sqlOperation('  \n\tselect 1'), 'select');
  assert.equal(sqlOperation('/* app: x */ -- hi\n INSERT INTO t VALUES (1)'), 'insert');
  assert.equal(sqlOperation('update t set a = 1'), 'update');
  assert.equal(sqlOperation('DELETE FROM t'), 'delete');
  assert.equal(sqlOperation('(select 1) union (select 2)'), 'select');
  assert.equal(sqlOperation('REPLACE INTO t VALUES (1)'), 'insert');
  assert.equal(sqlOperation('BEGIN'), 'other');
  assert.equal(sqlOperation('create table t (a int)'), 'other');
  assert.equal(sqlOperation(''), 'other');
  assert.equal(sqlOperation(undefined), 'other');
});

test('after WITH, the statement keyword outside the CTE bodies decides', () => {
  assert.equal(sqlOperation('WITH x AS (SELECT 1) DELETE FROM t WHERE a IN (SELECT * FROM x)'), 'delete');
  assert.equal(sqlOperation('with a as (select 1), b as (select 2) select * from a, b'), 'select');
  assert.equal(sqlOperation("with x as (select ')' as p) update t set a = 1"), 'update');
  assert.equal(
    sqlOperation('WITH RECURSIVE r(n) AS (SELECT 1 UNION SELECT n + 1 FROM r) INSERT INTO t SELECT n FROM r'),
    'insert',
  );
});
