import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Action } from '../src/core/action.js';
import { compilePolicy } from '../src/core/policy/compile.js';
import { lintDocument, lintPolicy, type LintOptions } from '../src/core/policy/lint.js';
import { parseSourceText } from '../src/core/policy/load.js';
import type { PolicyProblem } from '../src/core/policy/problem.js';
import type { PolicyDocument } from '../src/core/policy/types.js';

/** Lints YAML policy text; the first line of `rules` is line 4. */
async function lint(rulesYaml: string, options: LintOptions = {}): Promise<PolicyProblem[]> {
  const source = parseSourceText(`version: 1\nname: lint-test\nrules:\n${rulesYaml.replace(/^\n/, "")}`, 'policy.yaml');
  return lintPolicy(source, compilePolicy(source), options);
}

function only(problems: PolicyProblem[], code: string): PolicyProblem[] {
  return problems.filter((p) => p.code === code);
}

describe('rules that can never match', () => {
  it('two different literals for one path (also through all)', async () => {
    const problems = await lint(`
  - id: r
    effect: allow
    when:
      name: a
      all:
        - name: b
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'warning', code: 'never-matches', path: 'rules[0].when.all[0].name', line: 9, column: 17 });
    expect(problems[0].message).toContain('rule "r" can never match');
    expect(problems[0].message).toContain('"a"');
    expect(problems[0].message).toContain('"b"');
    expect(problems[0].hint).toBeTruthy();
  });

  it('a literal not in an in list', async () => {
    const [p] = await lint(`
  - id: r
    effect: deny
    when: { kind: { in: [tool, llm] }, all: [ { kind: http } ] }
`);
    expect(p).toMatchObject({ code: 'never-matches', path: 'rules[0].when.all[0].kind', line: 6 });
    expect(p.message).toMatch(/kind cannot be both in \["tool","llm"\] and eq "http"/);
  });

  it('an empty numeric range', async () => {
    const [p] = await lint(`
  - id: r
    effect: require_approval
    when:
      input.amount: { gt: 10, lt: 5 }
`);
    expect(p).toMatchObject({ code: 'never-matches', path: 'rules[0].when.input.amount.lt', line: 7, column: 35 });
    expect(p.message).toContain('gt 10 and lt 5');
  });

  it('a range with equal open bounds, and a one-point range excluded by ne', async () => {
    expect(only(await lint(`
  - id: r
    effect: allow
    when: { input.n: { gte: 3, lt: 3 } }
`), 'never-matches')).toHaveLength(1);
    expect(only(await lint(`
  - id: r
    effect: allow
    when: { input.n: { gte: 3, lte: 3, ne: 3 } }
`), 'never-matches')).toHaveLength(1);
  });

  it('gt on a path also required to equal a string', async () => {
    const [p] = await lint(`
  - id: r
    effect: allow
    when:
      input.x: { gt: 1 }
      all: [ { input.x: abc } ]
`);
    expect(p.code).toBe('never-matches');
    expect(p.message).toContain('one needs a number, the other a string');
  });

  it('exists: false with another condition on the same path', async () => {
    const [p] = await lint(`
  - id: r
    effect: allow
    when:
      input.x: { exists: false }
      all: [ { input.x: 5 } ]
`);
    expect(p.code).toBe('never-matches');
    expect(p.message).toContain('exists: false');
  });

  it('exists: false on a parent of a required path, or a scalar parent', async () => {
    expect(only(await lint(`
  - id: r
    effect: allow
    when: { input.x: { exists: false }, input.x.y: 1 }
`), 'never-matches')[0].message).toContain('cannot exist when input.x is required to be missing');
    expect(only(await lint(`
  - id: r
    effect: allow
    when: { input.x: abc, input.x.y: 1 }
`), 'never-matches')[0].message).toContain('input.x is a string here, so input.x.y never exists');
  });

  it('not of a condition identical to a sibling', async () => {
    const [p] = await lint(`
  - id: r
    effect: deny
    when: { name: db.query, not: { name: db.query } }
`);
    expect(p).toMatchObject({ code: 'never-matches', path: 'rules[0].when.not', line: 6 });
  });

  it('an operator-level not that negates a sibling operator', async () => {
    const [p] = await lint(`
  - id: r
    effect: deny
    when: { input.s: { regex: "^a", not: { regex: "^a" } } }
`);
    expect(p).toMatchObject({ code: 'never-matches', path: 'rules[0].when.input.s.not' });
  });

  it('operators that cannot hold for the required literal, and fields that are always strings', async () => {
    expect(only(await lint(`
  - id: r
    effect: deny
    when: { name: db.query, all: [ { name: { glob: "kb.*" } } ] }
`), 'never-matches')[0].message).toContain('must be "db.query" here');
    expect(only(await lint(`
  - id: r
    effect: deny
    when: { name: { gt: 5 } }
`), 'never-matches')[0].message).toContain('name is always a string');
    expect(only(await lint(`
  - id: r
    effect: deny
    when: { kind: { exists: false } }
`), 'never-matches')[0].message).toContain('every action has kind');
    expect(only(await lint(`
  - id: r
    effect: deny
    when: { input.p: { startsWith: /tmp/ }, all: [ { input.p: { startsWith: /etc/ } } ] }
`), 'never-matches')[0].message).toContain('cannot both start with');
  });

  it('all branches of any contradicting the rest', async () => {
    const [p] = await lint(`
  - id: r
    effect: deny
    when:
      name: a
      any: [ { name: b }, { name: c } ]
`);
    expect(p).toMatchObject({ code: 'never-matches', path: 'rules[0].when.any' });
  });

  it('a single any branch that can never match is a dead-branch warning', async () => {
    const problems = await lint(`
  - id: r
    effect: deny
    when:
      name: a
      any: [ { input.n: { gt: 5 } }, { name: c } ]
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'warning', code: 'dead-branch', path: 'rules[0].when.any[1]', line: 8 });
  });

  it('does not warn about conditions that can hold together', async () => {
    const problems = await lint(`
  - id: ranges
    effect: deny
    when: { input.n: { gt: 5, lt: 10, ne: 7 }, input.s: { startsWith: ab, endsWith: yz, in: [abyz, abcyz, x] } }
  - id: one-of
    effect: deny
    when: { kind: { in: [tool, llm] }, all: [ { kind: tool } ] }
  - id: not-other
    effect: deny
    when: { name: a, not: { name: b } }
  - id: absent-other-path
    effect: deny
    when: { input.x: { exists: false }, input.y: 1 }
  - id: wildcards
    effect: deny
    when: { input.to.*: a, all: [ { input.to.*: b } ] }
  - id: any-ok
    effect: deny
    when: { name: a, any: [ { input.n: 1 }, { input.m: 2 } ] }
`);
    expect(problems).toEqual([]);
  });
});

describe('operators that are never evaluated', () => {
  it('exists: false next to other operators', async () => {
    const [p] = await lint(`
  - id: r
    effect: deny
    when: { input.x: { exists: false, eq: 3 } }
`);
    expect(p).toMatchObject({ severity: 'warning', code: 'ignored-operator', path: 'rules[0].when.input.x.exists', line: 6, column: 32 });
    expect(p.message).toContain('eq 3 is never checked');
  });

  it('exists inside an operator not', async () => {
    const [p] = await lint(`
  - id: r
    effect: deny
    when: { input.x: { not: { exists: true, eq: 3 } } }
`);
    expect(p).toMatchObject({ code: 'ignored-operator', path: 'rules[0].when.input.x.not.exists' });
  });
});

describe('shadowed and duplicate rules', () => {
  it('an allow rule whose conditions imply a deny rule', async () => {
    const problems = await lint(`
  - id: allow-query
    effect: allow
    when: { name: db.query }
  - id: block-db
    effect: deny
    when: { name: { glob: "db.*" } }
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'warning', code: 'shadowed-rule', path: 'rules[0].id', line: 4, column: 9 });
    expect(problems[0].message).toContain('deny rule "block-db" (rules[1])');
  });

  it('require_approval and transform rules implied through in lists, ranges and extra conditions', async () => {
    const problems = await lint(`
  - id: no-big
    effect: deny
    when: { name: { in: [pay, refund] }, input.amount: { gt: 100 } }
  - id: approve
    effect: require_approval
    when: { name: pay, input.amount: { gte: 1000 }, context.env: prod }
  - id: cap
    effect: transform
    when: { name: { in: [pay, refund] }, input.amount: { gt: 500 } }
    transform: [ { clamp: input.amount, max: 500 } ]
`);
    expect(only(problems, 'shadowed-rule').map((p) => p.path)).toEqual(['rules[1].id', 'rules[2].id']);
  });

  it('a rule implied by a deny through a not', async () => {
    const problems = await lint(`
  - id: only-prod
    effect: deny
    when: { not: { context.env: prod } }
  - id: dev-tool
    effect: allow
    when: { name: t, context.env: dev }
`);
    expect(only(problems, 'shadowed-rule')).toHaveLength(1);
  });

  it('every other rule when a deny rule has no when', async () => {
    const problems = await lint(`
  - id: kb
    effect: allow
    when: { name: kb.search }
  - id: lockdown
    effect: deny
  - id: other
    effect: deny
    when: { name: x }
`);
    expect(only(problems, 'shadowed-rule').map((p) => [p.path, p.line])).toEqual([['rules[0].id', 4], ['rules[2].id', 9]]);
    expect(problems[0].message).toContain('deny rule "lockdown" (rules[1]) has no conditions');
  });

  it('a rule identical in effect and when to an earlier one', async () => {
    const problems = await lint(`
  - id: a
    effect: allow
    when: { name: x, kind: tool }
  - id: b
    effect: allow
    when: { kind: tool, name: x }
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'duplicate-rule', path: 'rules[1].id', line: 7 });
  });

  it('does not flag rules that can still decide', async () => {
    const problems = await lint(`
  - id: block-drop
    effect: deny
    when: { name: db.query, input.sql: { regex: "drop", flags: i } }
  - id: allow-query
    effect: allow
    when: { name: db.query }
  - id: allow-other
    effect: allow
    when: { name: { glob: "db.*" } }
  - id: same-when-other-effect
    effect: require_approval
    when: { name: db.query }
  - id: transform-a
    effect: transform
    when: { name: t }
    transform: [ { set: input.a, value: 1 } ]
  - id: transform-b
    effect: transform
    when: { name: t }
    transform: [ { set: input.b, value: 1 } ]
  - id: big
    effect: deny
    when: { name: pay, input.amount: { gt: 1000 } }
  - id: approve-some
    effect: require_approval
    when: { name: pay, input.amount: { gt: 500 } }
`);
    expect(problems).toEqual([]);
  });
});

describe('transform steps', () => {
  it('set under a field the condition requires to be a string is an error', async () => {
    const [p] = await lint(`
  - id: t
    effect: transform
    when: { input.q: abc }
    transform:
      - { set: input.q.limit, value: 1 }
`);
    expect(p).toMatchObject({ severity: 'error', code: 'transform-cannot-apply', path: 'rules[0].transform[0].set', line: 8, column: 16 });
    expect(p.message).toContain('input.q is a string');
  });

  it('clamp on a string, replace on a number, keep in a non-object', async () => {
    const problems = await lint(`
  - id: c
    effect: transform
    when: { input.n: { startsWith: x } }
    transform: [ { clamp: input.n, max: 3 } ]
  - id: r
    effect: transform
    when: { input.m: { gt: 1 } }
    transform: [ { replace: input.m, pattern: a, with: b } ]
  - id: k
    effect: transform
    when: { input.o: { in: [1, 2] } }
    transform: [ { keep: [a], in: input.o } ]
`);
    expect(problems.map((p) => [p.severity, p.code, p.path])).toEqual([
      ['error', 'transform-cannot-apply', 'rules[0].transform[0].clamp'],
      ['error', 'transform-cannot-apply', 'rules[1].transform[0].replace'],
      ['error', 'transform-cannot-apply', 'rules[2].transform[0].in'],
    ]);
    expect(problems[0].message).toContain('clamp needs a number');
  });

  it('steps on a path that is required to be missing have no effect', async () => {
    const [p] = await lint(`
  - id: t
    effect: transform
    when: { input.x: { exists: false } }
    transform: [ { clamp: input.x.n, max: 3 } ]
`);
    expect(p).toMatchObject({ severity: 'warning', code: 'transform-no-effect', path: 'rules[0].transform[0].clamp' });
  });

  it('set or remove of kind, name or agent.id changes routing', async () => {
    const problems = await lint(`
  - id: t
    effect: transform
    when: { name: db.query }
    transform:
      - { set: name, value: db.readonly_query }
      - { remove: agent.id }
      - { set: agent, value: {} }
      - { keep: [team], in: agent }
      - { set: agent.team, value: x }
`);
    expect(only(problems, 'transform-changes-routing').map((p) => [p.path, p.line])).toEqual([
      ['rules[0].transform[0].set', 8],
      ['rules[0].transform[1].remove', 9],
      ['rules[0].transform[2].set', 10],
      ['rules[0].transform[3].in', 11],
    ]);
  });

  it('steps that can apply, or whose path an earlier step changed, are not flagged', async () => {
    const problems = await lint(`
  - id: ok
    effect: transform
    when: { input.q: abc, input.n: { gt: 1 } }
    transform:
      - { set: input.q, value: x }
      - { clamp: input.n, max: 3 }
      - { set: input.other.deep, value: 1 }
  - id: after-change
    effect: transform
    when: { input.z: abc }
    transform:
      - { set: input.z, value: {} }
      - { set: input.z.limit, value: 1 }
`);
    expect(problems).toEqual([]);
  });
});

describe('regexes open to catastrophic backtracking', () => {
  it('an exponential regex is an error naming the complexity and an attack string', async () => {
    const problems = await lint(`
  - id: slow
    effect: deny
    when:
      input.sql: { regex: "^(a+)+$" }
`);
    expect(problems).toHaveLength(1);
    const [p] = problems;
    expect(p).toMatchObject({ severity: 'error', code: 'redos', path: 'rules[0].when.input.sql.regex', line: 7, column: 27 });
    expect(p.message).toContain('exponential');
    expect(p.message).toMatch(/on input like .*'a'/);
    expect(p.hint).toMatch(/\(a\+\)\+ → a\+/);
  });

  it('a polynomial regex, in a replace step and inside not', async () => {
    const problems = await lint(`
  - id: t
    effect: transform
    when: { input.s: { not: { regex: "^.*a.*a.*$" } } }
    transform: [ { replace: input.s, pattern: "\\\\s*#\\\\s*$", with: "" } ]
`);
    expect(problems.map((p) => [p.code, p.path])).toEqual([
      ['redos', 'rules[0].when.input.s.not.regex'],
      ['redos', 'rules[0].transform[0].pattern'],
    ]);
    expect(problems[0].message).toContain('polynomial');
    expect(problems[1].line).toBe(7);
  });

  it('safe regexes pass', async () => {
    const problems = await lint(`
  - id: ok
    effect: deny
    when: { input.sql: { regex: "^\\\\s*(drop|delete|truncate)\\\\b", flags: i }, input.mail: { regex: "^[\\\\w.+-]+@[\\\\w-]+(\\\\.[\\\\w-]+)*$" } }
`);
    expect(problems).toEqual([]);
  });

  it('a regex the checker cannot finish in time is a warning', async () => {
    const problems = await lint(
      `
  - id: hard
    effect: deny
    when: { input.mail: { regex: "(\\\\d+)*[a-z]{2,}(\\\\s|-)+\\\\w+@(\\\\w+\\\\.)+\\\\w{2,}$" } }
`,
      { redosTimeoutMs: 1 },
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'warning', code: 'redos-unknown', path: 'rules[0].when.input.mail.regex' });
    expect(problems[0].message).toContain('within 1 ms');
  });
});

describe('soundness: what lint reports is true of the engine', () => {
  const values = ['x', 'db.q', 'ab', 1, 5, 10, true, null];
  const literal = fc.constantFrom(...values);
  const number = fc.constantFrom(1, 5, 10);
  const operators: Record<string, fc.Arbitrary<unknown>> = {
    eq: literal,
    ne: literal,
    in: fc.subarray(values, { minLength: 1, maxLength: 3 }),
    gt: number,
    gte: number,
    lt: number,
    lte: number,
    exists: fc.boolean(),
    startsWith: fc.constantFrom('a', 'd', 'db'),
    glob: fc.constantFrom('db.*', '*b'),
    contains: fc.constantFrom('b', 'x'),
    not: fc.oneof(fc.record({ eq: literal }), fc.record({ gt: number }), fc.record({ startsWith: fc.constantFrom('a', 'd') })),
  };
  const ops = fc
    .subarray(Object.keys(operators), { minLength: 1, maxLength: 3 })
    .chain((keys) => fc.record(Object.fromEntries(keys.map((k) => [k, operators[k]]))));
  const spec = fc.oneof(literal, ops);
  const pathKey = fc.constantFrom('name', 'kind', 'input.a', 'input.b', 'input.a.x', 'input.l.*');
  const leaf = fc.dictionary(pathKey, spec, { minKeys: 1, maxKeys: 3 });
  const when: fc.Arbitrary<Record<string, unknown>> = fc.letrec((tie) => ({
    cond: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.tuple(leaf, fc.array(tie('cond'), { minLength: 1, maxLength: 2 })).map(([l, all]) => ({ ...l, all })),
      fc.tuple(leaf, fc.array(tie('cond'), { minLength: 1, maxLength: 2 })).map(([l, any]) => ({ ...l, any })),
      fc.tuple(leaf, tie('cond')).map(([l, not]) => ({ ...l, not })),
    ),
  })).cond as fc.Arbitrary<Record<string, unknown>>;
  const rule = fc.record({ effect: fc.constantFrom('allow', 'deny', 'require_approval'), when });
  // A deny rule, and rules that narrow it (so that some are shadowed) or overlap with it.
  const family = fc
    .tuple(when, when, fc.array(rule, { maxLength: 2 }), leaf)
    .map(([deny, extra, others, narrow]) => [
      { effect: 'deny', when: deny },
      { effect: 'allow', when: { all: [deny, extra] } },
      { effect: 'require_approval', when: { ...narrow, ...deny } },
      ...others,
    ]);
  const rules = fc.oneof(fc.array(rule, { minLength: 1, maxLength: 4 }), family);
  const value = fc.oneof(literal, fc.record({ x: literal }, { requiredKeys: [] }));
  const action: fc.Arbitrary<Action> = fc.record({
    kind: fc.constantFrom('tool', 'llm'),
    name: fc.constantFrom('x', 'db.q', 'ab'),
    input: fc.record({ a: value, b: value, l: fc.array(literal, { maxLength: 2 }) }, { requiredKeys: [] }),
  });

  it('rules reported as never matching match no action, and shadowed rules only match with their deny rule', () => {
    fc.assert(
      fc.property(rules, fc.array(action, { minLength: 200, maxLength: 200 }), (rules, actions) => {
        const doc = { version: 1, name: 'p', rules: rules.map((r, i) => ({ id: `r${i}`, ...r })) } as PolicyDocument;
        let policy;
        try {
          policy = compilePolicy({ filename: 'p', data: doc });
        } catch {
          return; // not a valid policy (e.g. nested too deep): nothing to lint
        }
        const problems = lintDocument(doc);
        for (const p of problems) {
          const index = p.segments[1] as number;
          const matches = (i: number, a: Action) => policy.rules[i].condition?.test(a) ?? true;
          if (p.code === 'never-matches') {
            for (const a of actions) expect(matches(index, a), `${p.message} but it matches ${JSON.stringify(a)}`).toBe(false);
          }
          if (p.code === 'shadowed-rule') {
            const deny = Number(/\(rules\[(\d+)\]\)/.exec(p.message)![1]);
            for (const a of actions) if (matches(index, a)) expect(matches(deny, a), `${p.message}, yet ${JSON.stringify(a)} matches only the first`).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
