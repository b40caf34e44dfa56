/**
 * The example pipelines (examples/ci/github-actions.yml, examples/ci/gitlab-ci.yml) parsed as YAML:
 * their shape (the steps in order, the JUnit report published), every `prodmon ...` command line in
 * their scripts parsed by the CLI's own commander program (an unknown command or option, a missing
 * value or a stray argument fails), their shell scripts checked by `bash -n`, and the comparison's
 * exit codes — 3 (inconclusive) above all — handled as their comments say, by running the real script
 * with `npx` and `sleep` replaced by stubs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type Command, CommanderError } from 'commander';
import { parseDocument } from 'yaml';
import { buildProgram } from '../src/cli/main.js';
import { tempDir } from './support/services.js';

const FILES = {
  github: new URL('../examples/ci/github-actions.yml', import.meta.url),
  gitlab: new URL('../examples/ci/gitlab-ci.yml', import.meta.url),
};

/**
 * Commands the real program lacks, added for the check (none: baseline, deploy and verify are all
 * checked against the CLI's own program).
 */
const STAND_INS: { name: string; register(program: Command): void }[] = [];

/** The CLI's program (plus the stand-ins it lacks), each command's action replaced by a recorder. */
function cliProgram(): { program: Command; ran: string[]; standIns: string[] } {
  const program = buildProgram();
  const standIns: string[] = [];
  for (const s of STAND_INS) {
    if (program.commands.some((c) => c.name() === s.name)) continue;
    s.register(program);
    standIns.push(s.name);
  }
  const ran: string[] = [];
  const quiet = (cmd: Command, path: string[]) => {
    cmd.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
    if (cmd.commands.length === 0) cmd.action(() => void ran.push(path.join(' ')));
    for (const c of cmd.commands) quiet(c, [...path, c.name()]);
  };
  quiet(program, []);
  return { program, ran, standIns };
}

/** Which command `prodmon ...args` runs; throws commander's message when it would not run. */
async function parsedBy(args: string[]): Promise<string> {
  const { program, ran } = cliProgram();
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    throw new Error(
      `prodmon ${args.join(' ')}: ${err instanceof CommanderError ? `${err.code}: ${err.message}` : err}`,
    );
  }
  if (ran.length !== 1) throw new Error(`prodmon ${args.join(' ')}: ran no command (${ran.join(', ')})`);
  return ran[0]!;
}

/**
 * The simple commands of a shell script, each as its words with the quotes removed (`$VAR`s left as
 * written). Hand-written because no shell parser is among the dependencies, and the pipelines need
 * little: words, '…' and "…" quoting, backslash escapes and line continuations, `#` comments, `$(…)`
 * and `$((…))` kept whole, the operators that separate commands (newline ; & && || | ( )), and
 * redirections (dropped with their target). Anything else is read as word characters.
 */
function shellCommands(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  let dropNext = false;
  const endWord = () => {
    if (word !== null && !dropNext) words.push(word);
    else if (word !== null) dropNext = false;
    word = null;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === '\\') {
      if (script[i + 1] !== '\n') word = (word ?? '') + (script[i + 1] ?? '');
      i++;
    } else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${script}`);
      word = (word ?? '') + script.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let s = '';
      let j = i + 1;
      for (; j < script.length && script[j] !== '"'; j++) {
        if (script[j] === '\\' && '"\\$`\n'.includes(script[j + 1] ?? '')) {
          j++;
          if (script[j] !== '\n') s += script[j];
        } else s += script[j];
      }
      if (j >= script.length) throw new Error(`unterminated " in: ${script}`);
      word = (word ?? '') + s;
      i = j;
    } else if (c === '$' && script[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < script.length; j++) {
        if (script[j] === '(') depth++;
        else if (script[j] === ')' && --depth === 0) break;
      }
      word = (word ?? '') + script.slice(i, j + 1);
      i = j;
    } else if (c === '#' && word === null) {
      const nl = script.indexOf('\n', i);
      i = nl < 0 ? script.length : nl - 1;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if ('\n;&|()'.includes(c)) {
      endCommand();
    } else if (c === '<' || c === '>') {
      if (word !== null && /^\d+$/.test(word)) word = null; // 2>&1: the descriptor
      endWord();
      while (script[i + 1] === '>' || script[i + 1] === '&') i++;
      dropNext = true;
    } else word = (word ?? '') + c;
  }
  endCommand();
  return commands;
}

const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'time']);

/** The arguments of each `prodmon` (or `npx prodmon`) command of a script. */
function prodmonCommands(script: string): string[][] {
  const out: string[][] = [];
  for (const words of shellCommands(script)) {
    let i = 0;
    while (i < words.length && (KEYWORDS.has(words[i]!) || /^[A-Za-z_]\w*=/.test(words[i]!))) i++;
    if (words[i] === 'npx') for (i++; words[i]?.startsWith('-'); i++);
    if (words[i] === 'prodmon') out.push(words.slice(i + 1));
  }
  return out;
}

type Yaml = Record<string, unknown>;

function load(file: URL): Yaml {
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
  assert.deepEqual(
    doc.errors.map((e) => e.message),
    [],
  );
  return doc.toJS() as Yaml;
}

/** Every shell script of a file: GitHub steps' `run`, GitLab jobs' `before_script`, `script`, `after_script`. */
function scripts(kind: keyof typeof FILES, y: Yaml): { where: string; script: string }[] {
  const out: { where: string; script: string }[] = [];
  if (kind === 'github') {
    for (const [job, j] of Object.entries(y.jobs as Record<string, { steps: Yaml[] }>)) {
      j.steps.forEach((s, i) => {
        if (typeof s.run === 'string')
          out.push({ where: `jobs.${job}.steps[${i}] ${s.name ?? ''}`, script: s.run });
      });
    }
    return out;
  }
  for (const [job, j] of Object.entries(y)) {
    if (!j || typeof j !== 'object' || Array.isArray(j)) continue;
    for (const key of ['before_script', 'script', 'after_script']) {
      const lines = (j as Yaml)[key];
      if (Array.isArray(lines))
        lines.forEach((l, i) => {
          out.push({ where: `${job}.${key}[${i}]`, script: String(l) });
        });
    }
  }
  return out;
}

/** Lines that name a prodmon command, outside shell comments (to check nothing was missed). */
const mentions = (script: string) =>
  script
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, ''))
    .join('\n')
    .match(/(?<![\w"'=:-])prodmon\s+[a-z]/g)?.length ?? 0;

describe('the example pipelines', () => {
  for (const kind of ['github', 'gitlab'] as const) {
    test(`${kind}: every prodmon command line is one the CLI parses, in the order baseline, deploy mark, verify, compare`, async (t) => {
      const y = load(FILES[kind]);
      const lines: { where: string; args: string[] }[] = [];
      for (const s of scripts(kind, y)) {
        const found = prodmonCommands(s.script);
        assert.equal(
          found.length,
          mentions(s.script),
          `${s.where}: a prodmon command was not read:\n${s.script}`,
        );
        for (const args of found) lines.push({ where: s.where, args });
      }
      const ran: string[] = [];
      for (const l of lines) ran.push(await parsedBy(l.args));
      assert.deepEqual(ran, ['baseline save', 'deploy mark', 'verify', 'baseline compare']);
      const { standIns, program } = cliProgram();
      assert.ok(
        buildProgram().commands.some((c) => c.name() === 'verify'),
        'verify is checked against the real program',
      );
      assert.ok(!standIns.includes('verify'));
      if (standIns.length)
        t.diagnostic(
          `checked against the expected syntax (STAND_INS), not the real program: ${standIns.join(', ')}`,
        );
      assert.ok(program.commands.length > 0);
      // The exact lines the docs describe.
      const sha = kind === 'github' ? '$GITHUB_SHA' : '$CI_COMMIT_SHA';
      assert.deepEqual(
        lines.map((l) => l.args.join(' ')),
        [
          `baseline save pre-${sha} --since 30m --url $PRODMON_URL`,
          `deploy mark --version=${sha} --url $PRODMON_URL`,
          'verify --url $PRODMON_URL --for 2m --timeout 5m',
          `baseline compare --before-deploy ${sha} --since 10m --junit report.xml --url $PRODMON_URL`,
        ],
      );
    });

    test(`${kind}: its shell scripts are valid bash`, () => {
      for (const s of scripts(kind, load(FILES[kind]))) {
        const r = spawnSync('bash', ['-n', '-c', s.script], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${s.where}: ${r.stderr}`);
      }
    });
  }

  test('the checker refuses what the CLI would refuse', async () => {
    await assert.rejects(
      parsedBy(['verify', '--window', '2m']),
      /unknownOption: error: unknown option '--window'/,
    );
    await assert.rejects(parsedBy(['verify', '--for']), /optionMissingArgument/);
    await assert.rejects(parsedBy(['verify', 'now']), /excessArguments/);
    await assert.rejects(parsedBy(['verfy']), /unknownCommand/);
    // The program's own -V, --version takes an optional value, so that deploy mark's reaches the command.
    assert.equal(await parsedBy(['deploy', 'mark', '--version', 'abc']), 'deploy mark');
    assert.equal(await parsedBy(['verify', '--url', 'x', '--for', '2m', '--json']), 'verify');
    assert.deepEqual(shellCommands('a "b c" \'d\' e\\\n  f $(g "h") # i\nj x=1 > out 2>&1 && k || l'), [
      ['a', 'b c', 'd', 'e', 'f', '$(g "h")'],
      ['j', 'x=1'],
      ['k'],
      ['l'],
    ]);
  });

  test('github: the JUnit report is published whatever the outcome; a rollback runs when a gate after the deploy fails', () => {
    const y = load(FILES.github);
    const steps = (y.jobs as { deploy: { steps: Yaml[] } }).deploy.steps;
    const publish = steps.find((s) => String(s.uses).startsWith('mikepenz/action-junit-report@'));
    assert.ok(publish, 'a step publishes the JUnit report');
    assert.equal((publish.with as Yaml).report_paths, 'report.xml');
    assert.match(String(publish.if), /!cancelled\(\)/);
    assert.deepEqual((y.permissions as Yaml).checks, 'write');
    const names = steps.map((s) => s.name ?? s.uses ?? s.run);
    assert.ok(names.indexOf('Publish the comparison report') > names.indexOf('Compare with the baseline'));
    assert.match(String(steps.at(-1)!.if), /failure\(\) && steps\.deploy\.outcome == 'success'/);
  });

  test('gitlab: the JUnit report is an artifact report kept whatever the outcome; exit 3 alone may fail', () => {
    const y = load(FILES.gitlab);
    const compare = y.compare as Yaml;
    assert.deepEqual(compare.artifacts, {
      when: 'always',
      reports: { junit: 'report.xml' },
      paths: ['report.xml'],
      expire_in: '30 days',
    });
    assert.deepEqual(compare.allow_failure, { exit_codes: [3] });
    assert.deepEqual(y.stages, ['baseline', 'deploy', 'verify', 'compare', 'rollback']);
    assert.equal((y.rollback as Yaml).when, 'on_failure');
  });

  describe('the comparison step, run with stubs for npx and sleep', () => {
    const dir = tempDir('prodmon-ci-');
    after(() => dir.cleanup());
    const stub = (name: string, body: string) => {
      const path = join(dir.path, name);
      writeFileSync(path, `#!/bin/sh\n${body}\n`);
      chmodSync(path, 0o755);
    };
    // npx exits with the next code of `codes`, one per call, and logs its arguments; sleep only logs.
    stub(
      'npx',
      'echo "$*" >> "$STUB/calls"\nn=$(wc -l < "$STUB/calls")\ncode=$(sed -n "${n}p" "$STUB/codes")\nexit "${code:-0}"',
    );
    stub('sleep', 'echo "$*" >> "$STUB/sleeps"');

    const compareScript = (kind: keyof typeof FILES): string => {
      const y = load(FILES[kind]);
      if (kind === 'gitlab') return String((y.compare as { script: string[] }).script[0]);
      const steps = (y.jobs as { deploy: { steps: Yaml[] } }).deploy.steps;
      return String(steps.find((s) => s.name === 'Compare with the baseline')!.run);
    };

    /** Runs a compare script as the runners do (bash -eo pipefail) with the codes npx returns in turn. */
    const run = (kind: keyof typeof FILES, codes: number[], onInconclusive: string) => {
      const read = (f: string) => {
        try {
          return readFileSync(join(dir.path, f), 'utf8').trim().split('\n').filter(Boolean);
        } catch {
          return [];
        }
      };
      writeFileSync(join(dir.path, 'codes'), `${codes.join('\n')}\n`);
      writeFileSync(join(dir.path, 'calls'), '');
      writeFileSync(join(dir.path, 'sleeps'), '');
      const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', compareScript(kind)], {
        encoding: 'utf8',
        env: {
          PATH: `${dir.path}:${process.env.PATH}`,
          STUB: dir.path,
          ON_INCONCLUSIVE: onInconclusive,
          GITHUB_SHA: 'abc123',
          CI_COMMIT_SHA: 'abc123',
          PRODMON_URL: 'https://pm.example.com',
        },
      });
      return { code: r.status, out: r.stdout + r.stderr, calls: read('calls'), sleeps: read('sleeps') };
    };

    const CALL =
      'prodmon baseline compare --before-deploy abc123 --since 10m --junit report.xml --url https://pm.example.com';
    // [codes npx returns, ON_INCONCLUSIVE] -> [exit code on GitHub, on GitLab (where 3 is allowed to fail), calls]
    const cases: [number[], string, number, number, number][] = [
      [[0], 'retry', 0, 0, 1],
      [[1], 'retry', 1, 1, 1],
      [[2], 'retry', 2, 2, 1],
      [[3, 0], 'retry', 0, 0, 2],
      [[3, 3, 1], 'retry', 1, 1, 3],
      [[3, 3, 3], 'retry', 0, 3, 3],
      [[3], 'warn', 0, 3, 1],
    ];
    for (const kind of ['github', 'gitlab'] as const) {
      test(`${kind}: 0 passes, 1 and 2 fail, 3 is retried every 5 minutes at most 3 times (retry) or passes with a warning at once (warn)`, () => {
        for (const [codes, mode, github, gitlab, calls] of cases) {
          const r = run(kind, codes, mode);
          const what = `${kind} ${mode} ${codes.join(',')}: ${r.out}`;
          assert.equal(r.code, kind === 'github' ? github : gitlab, what);
          assert.deepEqual(r.calls, Array(calls).fill(CALL), what);
          assert.deepEqual(r.sleeps, Array(calls - 1).fill('300'), what);
          if (codes.at(-1) === 3)
            assert.match(r.out, /inconclusive \(exit 3\): not enough traffic to judge/, what);
          if (kind === 'github' && codes.at(-1) === 3)
            assert.match(r.out, /^::warning title=prodmon::/m, what);
        }
      });
    }
  });
});
