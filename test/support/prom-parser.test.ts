import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PromParseError, parsePrometheusText } from './prom-parser.js';

const VALID = `# HELP http_requests_total Requests, with a \\\\ and a\\nnewline.
# TYPE http_requests_total counter
http_requests_total{method="GET",path="/a\\"b\\\\c\\nd"} 1027 1395066363000
http_requests_total{method="POST",} 3

# a comment
# TYPE temp gauge
temp -3.5e-2
temp{room="x"} NaN
# TYPE lat histogram
lat_bucket{le="0.05"} 1
lat_bucket{le="0.5"} 3
lat_bucket{le="+Inf"} 4
lat_sum 2.5
lat_count 4
# TYPE rpc summary
rpc{quantile="0.5"} 4
rpc_sum 10
rpc_count 3
untyped_thing 1
`;

/** Asserts that `text` is rejected with a message matching `re`. */
function rejects(text: string, re: RegExp): void {
  assert.throws(
    () => parsePrometheusText(text),
    (e: unknown) => e instanceof PromParseError && re.test(e.message),
  );
}

test('a valid exposition parses into families with unescaped help and labels', () => {
  const f = parsePrometheusText(VALID);
  const req = f.get('http_requests_total')!;
  assert.equal(req.type, 'counter');
  assert.equal(req.help, 'Requests, with a \\ and a\nnewline.');
  assert.deepEqual(req.samples[0], {
    name: 'http_requests_total',
    labels: { method: 'GET', path: '/a"b\\c\nd' },
    value: 1027,
    timestamp: 1395066363000,
  });
  assert.deepEqual(req.samples[1]!.labels, { method: 'POST' });
  assert.ok(Number.isNaN(f.get('temp')!.samples[1]!.value));
  assert.equal(f.get('lat')!.samples.length, 5);
  assert.equal(f.get('rpc')!.type, 'summary');
  assert.equal(f.get('untyped_thing')!.type, 'untyped');
});

test('syntax errors are rejected: names, labels, escapes, values, timestamps, final newline', () => {
  rejects('9bad 1\n', /metric name/);
  rejects('m{9x="a"} 1\n', /label name/);
  rejects('m{__x="a"} 1\n', /reserved/);
  rejects('m{a="1",a="2"} 1\n', /duplicate label/);
  rejects('m{a="\\t"} 1\n', /invalid escape/);
  rejects('m{a="x} 1\n', /unterminated/);
  rejects('m{a=x} 1\n', /expected =/);
  rejects('m 1,5\n', /invalid value/);
  rejects('m one\n', /invalid value/);
  rejects('m 1 12.5\n', /invalid timestamp/);
  rejects('m 1 2 3\n', /expected "value/);
  rejects('m\n', /expected "value/);
  rejects('m 1', /newline/);
  rejects('# HELP m bad \\t escape\nm 1\n', /invalid escape/);
});

test('HELP and TYPE rules are enforced', () => {
  rejects('# TYPE m foo\nm 1\n', /unknown TYPE/);
  rejects('# TYPE m gauge\n# TYPE m gauge\nm 1\n', /second TYPE/);
  rejects('# HELP m a\n# HELP m b\nm 1\n', /second HELP/);
  rejects('m 1\n# TYPE m gauge\n', /after its samples/);
  rejects('# TYPE requests counter\nrequests 1\n', /_total/);
  rejects('# TYPE c_total counter\nc_total -1\n', /counter/);
});

test('families must be grouped and series unique', () => {
  rejects('a 1\nb 1\na{x="1"} 2\n', /not grouped/);
  rejects('a{x="1",y="2"} 1\na{y="2",x="1"} 1\n', /duplicate series/);
});

test('histograms need ascending cumulative buckets, +Inf, _sum and a matching _count', () => {
  const h = (body: string) => `# TYPE h histogram\n${body}`;
  rejects(
    h('h_bucket{le="1"} 1\nh_bucket{le="0.5"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'),
    /ascending/,
  );
  rejects(
    h('h_bucket{le="0.5"} 2\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n'),
    /cumulative/,
  );
  rejects(h('h_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'), /\+Inf/);
  rejects(h('h_bucket{le="+Inf"} 1\nh_count 1\n'), /_sum or _count/);
  rejects(h('h_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'), /differs/);
  rejects(h('h_bucket 1\n'), /le label/);
  rejects(h('h 1\n'), /_bucket\/_sum\/_count/);
  // one label set at a time: each must be complete
  rejects(
    h(
      'h_bucket{a="1",le="+Inf"} 1\nh_sum{a="1"} 1\nh_count{a="1"} 1\nh_bucket{a="2",le="1"} 1\nh_sum{a="2"} 1\nh_count{a="2"} 1\n',
    ),
    /\+Inf/,
  );
});
