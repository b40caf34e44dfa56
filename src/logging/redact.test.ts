import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { tempDir } from '../../test/support/services.js';
import { FakeClock } from '../core/clock.js';
import { logsConfig, readParsed } from './fixtures/read.js';
import { formatLogLine } from './format.js';
import { createProductionLogger } from './logger.js';
import { createRedactor, luhnValid, REDACTED } from './redact.js';

const dirs: { cleanup(): void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});

const SECRET_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'authorization',
  'cookie',
  'set-cookie',
  'api_key',
  'apiKey',
  'card_number',
  'cardNumber',
  'db_password',
  'accessToken',
  'X-Api-Key',
  'client_secret',
  'pass', // nodemailer's auth: { user, pass }
  'credentials',
  'routing_key',
  'sessionId',
  'ssn', // from logs.redact
];
const nest = (leaf: Record<string, unknown>) => ({ a: { b: [{ c: { d: leaf } }] } });
const leafOf = (v: unknown) => (v as { a: { b: { c: { d: Record<string, unknown> } }[] } }).a.b[0]!.c.d;

describe('redaction', () => {
  const r = createRedactor({ keys: ['ssn'], secrets: ['cfg-value-123'] });

  test('every secret-named key is redacted at any depth, inside arrays too; other keys are kept', () => {
    for (const key of SECRET_KEYS) {
      const input = nest({ [key]: `value-of-${key}`, status: 'ok', author: 'ann', tokenizer: 'bpe' });
      const leaf = leafOf(r.value(input));
      assert.equal(leaf[key], REDACTED, key);
      assert.deepEqual([leaf.status, leaf.author, leaf.tokenizer], ['ok', 'ann', 'bpe'], key);
    }
    // Objects under a secret key are replaced whole.
    assert.deepEqual(r.value({ cookie: { session: 'abc' } }), { cookie: REDACTED });
  });

  test('connection-string passwords, bearer/basic tokens and key=value secrets in free text are masked', () => {
    const cases: [string, string][] = [
      [
        'connect postgres://app:hunter2pw@db:5432/shop failed',
        'connect postgres://app:***@db:5432/shop failed',
      ],
      ['mysql://root:p@ss@w0rd@127.0.0.1/x', 'mysql://root:***@127.0.0.1/x'],
      ['redis://:redispass99@cache:6379', 'redis://:***@cache:6379'],
      ['mongodb+srv://u:mongoPw1@cluster0.example.net/db', 'mongodb+srv://u:***@cluster0.example.net/db'],
      ['Authorization: Bearer eyJhbGciOi.payload-part.sig_nature', 'Authorization: Bearer ***'],
      ['authorization=Bearer short', 'authorization=Bearer ***'],
      ['header was Basic dXNlcjpwYXNzd29yZA==', 'header was Basic ***'],
      [
        'host=db user=app password=hunter2pw sslmode=require',
        'host=db user=app password=*** sslmode=require',
      ],
      ['GET /cb?code=1&access_token=ya29.tok&state=2', 'GET /cb?code=1&access_token=***&state=2'],
      ['https://shop.example/cb?password=hunter2pw&x=1', 'https://shop.example/cb?password=***&x=1'],
      ['Cookie: sid=abc123; theme=dark', 'Cookie: ***; theme=dark'],
      ['sent {"user":"ann","token":"tok_live_abcdef123456"}', 'sent {"user":"ann","token":"***"}'],
      ['ssn: 078-05-1120', 'ssn: ***'],
      ['basic auth failed', 'basic auth failed'],
      ['at 12:30 the token expired', 'at 12:30 the token expired'],
      ['https://user@example.com/path', 'https://user@example.com/path'],
    ];
    for (const [input, expected] of cases) assert.equal(r.text(input), expected);
  });

  test('Luhn-valid card numbers (13-19 digits, spaces or dashes) are masked; other numbers are not', () => {
    assert.equal(r.text('card 4111 1111 1111 1111 declined'), 'card ****1111 declined');
    assert.equal(r.text('card 5555-5555-5555-4444'), 'card ****4444');
    assert.equal(r.text('amex 378282246310005.'), 'amex ****0005.');
    assert.equal(r.text('number 4012888888881881'), 'number ****1881');
    // Not Luhn-valid, an epoch-ms timestamp, a phone number, a 20-digit id: left alone.
    for (const s of [
      'order 4111111111111112',
      'at 1764151200000',
      'call +1 415 555 0100',
      'id 41111111111111111111',
    ]) {
      assert.equal(r.text(s), s);
    }
    assert.equal(luhnValid('79927398713'), true);
    assert.equal(luhnValid('79927398710'), false);
  });

  test('the config’s secret values are masked in values, keys and messages; input objects are not mutated', () => {
    const input = { note: 'uses cfg-value-123 here', 'cfg-value-123': 1, list: ['cfg-value-123'] };
    const out = r.value(input) as Record<string, unknown>;
    assert.deepEqual(out, { note: 'uses *** here', '***': 1, list: ['***'] });
    assert.equal(input.note, 'uses cfg-value-123 here');
    const clean = { a: { b: [1, 'two'] }, c: 'plain' };
    assert.equal(r.value(clean), clean, 'unchanged objects are not copied');
  });

  test('errors (message, stack, cause), toJSON values and circular objects are handled', () => {
    const err = new Error('login failed for password=hunter2pw', {
      cause: new Error('cfg-value-123 rejected'),
    });
    const out = r.value({ err, url: new URL('postgres://app:hunter2pw@db/x') }) as {
      err: { message: string; stack: string };
    };
    // pino's error serializer appends the causes' messages (`: cause`).
    assert.equal(out.err.message, 'login failed for password=*** *** rejected');
    assert.match(out.err.stack, /^Error: login failed for password=\*\*\*\n/);
    assert.doesNotMatch(JSON.stringify(out), /hunter2pw|cfg-value-123/);
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    assert.deepEqual(r.value(loop), { name: 'loop', self: '[Circular]' });
  });
});

describe('redaction in the files', () => {
  test('no raw secret reaches any file, whatever the path it takes', async () => {
    const d = tempDir('prodmon-logs-');
    dirs.push(d);
    const configSecret = 'p"a\\ss%W0rd-from-config';
    const logger = createProductionLogger({
      dir: d.path,
      config: logsConfig({ redact: ['ssn'], max_size: '2KB' }),
      clock: new FakeClock(),
      secrets: [configSecret],
    });
    const raw = [
      'hunter2pw',
      'Sup3rS3cretValue',
      'tok_live_abcdef123456',
      'eyJhbGciOi.payload-part.sig_nature',
      '4111 1111 1111 1111',
      '4111111111111111',
      '5555-5555-5555-4444',
      '078-05-1120',
      'sessioncookie42',
      configSecret,
    ];
    const child = logger.child({ reqId: 'r1', authorization: 'Bearer eyJhbGciOi.payload-part.sig_nature' });
    child.app.info(
      nest({
        password: 'hunter2pw',
        apiKey: 'tok_live_abcdef123456',
        'set-cookie': ['sid=sessioncookie42'],
        ssn: '078-05-1120',
        dsn: 'postgres://app:hunter2pw@db/shop',
        note: `pay with 4111 1111 1111 1111 using ${configSecret}`,
      }),
      'charge for card 5555-5555-5555-4444 with Bearer eyJhbGciOi.payload-part.sig_nature',
    );
    child.security.warn({ client_secret: 'Sup3rS3cretValue' }, `config secret ${configSecret} seen`);
    child.error.error(new Error(`db rejected password=hunter2pw (${configSecret})`));
    child.performance.info({ card_number: '4111111111111111' }, 'timing');
    child.app.info('%s and %o', 'interpolated 4111111111111111', { token: 'tok_live_abcdef123456' });
    for (let i = 0; i < 30; i++) logger.app.info({ i }, 'filler so that files rotate and get gzipped');
    await logger.close();

    const names = readdirSync(d.path);
    assert.ok(
      names.some((n) => n.endsWith('.gz')),
      'expected rotated, gzipped files too',
    );
    const text = names
      .map((n) => {
        const buf = readFileSync(join(d.path, n));
        return n.endsWith('.gz') ? gunzipSync(buf).toString() : buf.toString();
      })
      .join('\n');
    for (const secret of raw) {
      assert.ok(!text.includes(secret), `raw secret found: ${secret}`);
      assert.ok(!text.includes(JSON.stringify(secret).slice(1, -1)), `JSON-escaped secret found: ${secret}`);
    }
    assert.match(text, /"password":"\[REDACTED\]"/);
    assert.match(text, /postgres:\/\/app:\*\*\*@db\/shop/);
    assert.match(text, /\*\*\*\*4444 with Bearer \*\*\*/);
  });

  test('newlines and control characters in messages, keys and values cannot forge a line', async () => {
    const d = tempDir('prodmon-logs-');
    dirs.push(d);
    const logger = createProductionLogger({ dir: d.path, config: logsConfig(), clock: new FakeClock() });
    const forged = '\n{"level":60,"time":0,"msg":"forged"}\r\n';
    const msg = `login ok${forged}\u2028\u2029\u0085\u001b[31mred\u007f`;
    const key = `user${forged}`;
    logger.child({ [`bind${forged}`]: `v${forged}` }).app.warn({ [key]: `value${forged}\u2028` }, msg);
    await logger.close();
    const file = readFileSync(join(d.path, 'application.log'), 'utf8');
    assert.equal(file.split('\n').length, 2, 'one line and the final newline');
    assert.doesNotMatch(file.slice(0, -1), /[\r\n\u2028\u2029\u0085\u001b\u007f]/);
    const [line] = await readParsed(d.path, 'application');
    assert.equal(line!.msg, msg);
    assert.equal(line![key], `value${forged}\u2028`);
    assert.equal(line![`bind${forged}`], `v${forged}`);
    // Printed for a terminal, the line stays one line with no escape sequence.
    const printed = formatLogLine(line as never);
    assert.doesNotMatch(printed, /[\r\n\u2028\u2029\u0085\u001b\u007f]/);
    assert.match(printed, /login ok\\n\{"level":60/);
  });
});
