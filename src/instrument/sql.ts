/** What kind of statement a SQL text is: select, insert, update, delete or other (never the text itself). */

/** The operation label of a query. */
export type SqlOperation = 'select' | 'insert' | 'update' | 'delete' | 'other';

const OPS: Record<string, SqlOperation> = {
  select: 'select',
  insert: 'insert',
  update: 'update',
  delete: 'delete',
  replace: 'insert',
  upsert: 'insert',
  merge: 'update',
  values: 'select',
  table: 'select',
};

/**
 * The operation of a SQL statement from its first keyword, skipping comments, whitespace and opening
 * parentheses; after `WITH`, the first statement keyword outside the common table expressions.
 */
export function sqlOperation(sql: unknown): SqlOperation {
  if (typeof sql !== 'string') return 'other';
  let i = 0;
  let depth = 0;
  let sawWith = false;
  const n = Math.min(sql.length, 20_000);
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      // -- comment
      const e = sql.indexOf('\n', i);
      i = e === -1 ? n : e + 1;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      // /* comment */
      const e = sql.indexOf('*/', i + 2);
      i = e === -1 ? n : e + 2;
    } else if (c === 39 || c === 34 || c === 96) {
      // quoted string or identifier: skip to its closing quote
      const e = sql.indexOf(String.fromCharCode(c), i + 1);
      i = e === -1 ? n : e + 1;
    } else if (c === 40) {
      depth++;
      i++;
    } else if (c === 41) {
      depth = Math.max(0, depth - 1);
      i++;
    } else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      let j = i + 1;
      while (j < n && /[A-Za-z_]/.test(sql[j]!)) j++;
      const word = sql.slice(i, j).toLowerCase();
      i = j;
      if (!sawWith && word === 'with') {
        sawWith = true;
        continue;
      }
      // Inside WITH, the CTE bodies are in parentheses: the statement is the first keyword at depth 0.
      if (sawWith && depth > 0) continue;
      const op = OPS[word];
      if (op) return op;
      if (!sawWith) return 'other';
    } else {
      i++;
    }
  }
  return 'other';
}
