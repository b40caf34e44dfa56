/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for tests. It follows the
 * published rules and throws on anything a scraper could reject or misread: HELP/TYPE syntax and
 * placement, metric and label name syntax, escaping, values, families grouped together, histogram
 * buckets (`le` ascending, cumulative, `+Inf` present and equal to `_count`), counters named `_total`,
 * and duplicate series.
 */

/** One sample line. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

/** A metric family: its HELP, TYPE and samples. */
export interface PromFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: PromSample[];
}

/** A violation of the format, with its line number (1-based). */
export class PromParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'PromParseError';
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** A sample value: a float, `NaN`, `+Inf` or `-Inf`. */
export function parseValue(s: string): number | null {
  if (s === 'NaN') return Number.NaN;
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  return FLOAT.test(s) ? Number(s) : null;
}

function unescapeHelp(s: string, line: number): string {
  return s.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new PromParseError(line, `invalid escape "\\${c}" in HELP (only \\\\ and \\n)`);
  });
}

/** Parses `{a="1",b="2"}` from position `i` of `s`; returns the labels and the index after `}`. */
function parseLabels(s: string, i: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // '{'
  for (;;) {
    if (s[i] === '}') return [labels, i + 1];
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
    if (!m) throw new PromParseError(line, `invalid label name at column ${i + 1}`);
    const name = m[0];
    if (name.startsWith('__'))
      throw new PromParseError(line, `label name "${name}" is reserved (starts with __)`);
    if (name in labels) throw new PromParseError(line, `duplicate label "${name}"`);
    i += name.length;
    if (s[i] !== '=' || s[i + 1] !== '"')
      throw new PromParseError(line, `expected ="..." after label "${name}"`);
    i += 2;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new PromParseError(line, `unterminated value of label "${name}"`);
      if (c === '"') break;
      if (c === '\\') {
        const n = s[i + 1];
        if (n === '\\') value += '\\';
        else if (n === '"') value += '"';
        else if (n === 'n') value += '\n';
        else throw new PromParseError(line, `invalid escape "\\${n ?? ''}" in label "${name}"`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[name] = value;
    i++; // closing quote
    if (s[i] === ',') {
      i++;
      continue;
    }
    if (s[i] !== '}') throw new PromParseError(line, `expected , or } after label "${name}"`);
  }
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

/** The family a sample name belongs to, given the declared types. */
function familyOf(name: string, types: Map<string, PromFamily['type']>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const t = types.get(base);
    if (t === 'histogram' || (t === 'summary' && suffix !== '_bucket')) return base;
  }
  return name;
}

/** Parses an exposition; throws {@link PromParseError} at the first violation. */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  if (text.length > 0 && !text.endsWith('\n'))
    throw new PromParseError(0, 'the exposition must end with a newline');
  const families = new Map<string, PromFamily>();
  const types = new Map<string, PromFamily['type']>();
  const series = new Set<string>();
  const closed = new Set<string>();
  let current: string | null = null;
  const lines = text.split('\n');
  lines.pop();

  const enter = (fam: string, n: number, what: string) => {
    if (current !== fam) {
      if (closed.has(fam))
        throw new PromParseError(n, `${what} of "${fam}" is not grouped with its family's other lines`);
      if (current !== null) closed.add(current);
      current = fam;
    }
    let f = families.get(fam);
    if (!f) {
      f = { name: fam, type: types.get(fam) ?? 'untyped', samples: [] };
      families.set(fam, f);
    }
    return f;
  };

  lines.forEach((raw, idx) => {
    const n = idx + 1;
    if (raw.includes('\r')) throw new PromParseError(n, 'carriage return in line');
    const line = raw.replace(/^[ \t]+/, '');
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m as unknown as [string, string, string, string | undefined];
      if (!METRIC_NAME.test(name) || METRIC_NAME.exec(name)![0] !== name) {
        throw new PromParseError(n, `invalid metric name "${name}" in ${kind}`);
      }
      const f = enter(name, n, kind);
      if (f.samples.length > 0) throw new PromParseError(n, `${kind} of "${name}" after its samples`);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new PromParseError(n, `second HELP for "${name}"`);
        f.help = unescapeHelp(rest, n);
      } else {
        const t = rest.trim();
        if (!TYPES.has(t)) throw new PromParseError(n, `unknown TYPE "${t}" for "${name}"`);
        if (types.has(name)) throw new PromParseError(n, `second TYPE for "${name}"`);
        if (t === 'counter' && !name.endsWith('_total')) {
          throw new PromParseError(n, `counter "${name}" must be named with the suffix _total`);
        }
        types.set(name, t as PromFamily['type']);
        f.type = t as PromFamily['type'];
      }
      return;
    }
    const nm = METRIC_NAME.exec(line);
    if (!nm) throw new PromParseError(n, 'expected a metric name');
    const name = nm[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') [labels, i] = parseLabels(line, i, n);
    const rest = line.slice(i);
    const parts = rest.trim().split(/[ \t]+/);
    if (!/^[ \t]/.test(rest) || parts.length < 1 || parts.length > 2 || parts[0] === '') {
      throw new PromParseError(n, `expected "value [timestamp]" after "${name}"`);
    }
    const value = parseValue(parts[0]!);
    if (value === null) throw new PromParseError(n, `invalid value "${parts[0]}"`);
    let timestamp: number | undefined;
    if (parts[1] !== undefined) {
      if (!/^-?\d+$/.test(parts[1])) throw new PromParseError(n, `invalid timestamp "${parts[1]}"`);
      timestamp = Number(parts[1]);
    }
    const fam = familyOf(name, types);
    const f = enter(fam, n, 'sample');
    const key = seriesKey(name, labels);
    if (series.has(key)) throw new PromParseError(n, `duplicate series ${name}${JSON.stringify(labels)}`);
    series.add(key);
    if (f.type === 'counter' && !(value >= 0))
      throw new PromParseError(n, `counter "${name}" has value ${value}`);
    if (f.type === 'histogram' && name === `${fam}_bucket` && labels.le === undefined) {
      throw new PromParseError(n, `histogram bucket "${name}" without an le label`);
    }
    if (f.type === 'histogram' && name === fam) {
      throw new PromParseError(n, `histogram "${fam}" has a sample without _bucket/_sum/_count`);
    }
    f.samples.push({ name, labels, value, ...(timestamp !== undefined ? { timestamp } : {}) });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey('', rest);
    let g = groups.get(key);
    if (!g) {
      g = { buckets: [] };
      groups.set(key, g);
    }
    if (s.name.endsWith('_bucket')) {
      const bound = parseValue(le!);
      if (bound === null || Number.isNaN(bound)) throw new PromParseError(0, `${f.name}: invalid le "${le}"`);
      g.buckets.push([bound, s.value]);
    } else if (le !== undefined) {
      throw new PromParseError(0, `${f.name}: le label on ${s.name}`);
    } else if (s.name.endsWith('_count')) g.count = s.value;
    else g.sum = s.value;
  }
  for (const [key, g] of groups) {
    const where = `${f.name}${key}`;
    if (g.buckets.length === 0) throw new PromParseError(0, `${where}: no buckets`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0]))
        throw new PromParseError(0, `${where}: le values not ascending`);
      if (g.buckets[i]![1] < g.buckets[i - 1]![1])
        throw new PromParseError(0, `${where}: bucket counts not cumulative`);
    }
    const last = g.buckets[g.buckets.length - 1]!;
    if (last[0] !== Number.POSITIVE_INFINITY) throw new PromParseError(0, `${where}: no le="+Inf" bucket`);
    if (g.count === undefined || g.sum === undefined)
      throw new PromParseError(0, `${where}: _sum or _count missing`);
    if (g.count !== last[1])
      throw new PromParseError(0, `${where}: _count ${g.count} differs from the +Inf bucket ${last[1]}`);
  }
}
