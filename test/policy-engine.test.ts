import { describe, expect, it } from 'vitest';
import { Policy, PolicyError, SourceError, type Action } from '../src/sdk/index.js';

function policy(rules: unknown[], extra: Record<string, unknown> = {}): Policy {
  return Policy.parse({ version: 1, name: 'test', rules, ...extra });
}

const tool = (name: string, input: Record<string, unknown> = {}, more: Partial<Action> = {}): Action => ({ kind: 'tool', name, input, ...more });

describe('operators', () => {
  const cases: Array<[string, unknown, unknown, boolean]> = [
    ['literal equality', 'x', 'x', true],
    ['literal is typed', 5, '5', false],
    ['eq deep', { eq: { a: [1, 2] } }, { a: [1, 2] }, true],
    ['eq deep differs', { eq: { a: [1, 2] } }, { a: [2, 1] }, false],
    ['ne', { ne: 'a' }, 'b', true],
    ['in', { in: ['a', 'b'] }, 'b', true],
    ['in typed', { in: [1, 2] }, '1', false],
    ['glob whole value', { glob: 'kb.*' }, 'kb.search', true],
    ['glob does not match inside', { glob: 'kb.*' }, 'xkb.search', false],
    ['glob star crosses dots', { glob: 'kb.*' }, 'kb.search.v2', true],
    ['glob star stops at slash', { glob: '/workspace/*' }, '/workspace/a/b', false],
    ['glob double star', { glob: '/workspace/**' }, '/workspace/a/b', true],
    ['glob alternatives', { glob: '{a,b}.txt' }, 'b.txt', true],
    ['glob class', { glob: 'file[0-9]' }, 'file7', true],
    ['glob list', { glob: ['x', 'y*'] }, 'yes', true],
    ['regex searches', { regex: 'drop' }, 'please drop it', true],
    ['regex anchored', { regex: '^drop$' }, 'please drop it', false],
    ['regex flags', { regex: '^DROP', flags: 'i' }, 'drop table', true],
    ['regex on number is false', { regex: '1' }, 1, false],
    ['contains string', { contains: 'secret' }, 'top secret', true],
    ['contains array', { contains: 'b' }, ['a', 'b'], true],
    ['contains array typed', { contains: 1 }, ['1'], false],
    ['startsWith', { startsWith: 'rm ' }, 'rm -rf /', true],
    ['endsWith', { endsWith: '@acme.com' }, 'a@acme.com', true],
    ['gt', { gt: 1000 }, 1001, true],
    ['gt boundary', { gt: 1000 }, 1000, false],
    ['gte', { gte: 1000 }, 1000, true],
    ['lt', { lt: 5 }, 4, true],
    ['lte', { lte: 5 }, 6, false],
    ['"50 USD" is not a number', { gt: 10 }, '50 USD', false],
    ['numeric string is not a number', { gt: 10 }, '5000', false],
    ['NaN never compares', { lt: 10 }, NaN, false],
    ['several operators are ANDed', { gt: 1, lt: 10 }, 5, true],
    ['several operators are ANDed (fails)', { gt: 1, lt: 10 }, 50, false],
    ['operator-level not', { not: { endsWith: '@acme.com' } }, 'x@evil.com', true],
    ['operator-level not (fails)', { not: { endsWith: '@acme.com' } }, 'x@acme.com', false],
    ['exists true', { exists: true }, 'anything', true],
    ['exists false on present', { exists: false }, 0, false],
  ];
  it.each(cases)('%s', (_label, spec, value, expected) => {
    const p = policy([{ id: 'r', effect: 'allow', when: { 'input.v': spec } }]);
    expect(p.evaluate(tool('t', { v: value })).effect).toBe(expected ? 'allow' : 'deny');
  });
});

describe('missing fields', () => {
  const p = (spec: unknown) => policy([{ id: 'r', effect: 'allow', when: { 'input.v': spec } }]);
  it('make every operator false', () => {
    for (const spec of ['x', { eq: 'x' }, { ne: 'x' }, { in: ['x'] }, { regex: '.*' }, { gt: 0 }, { exists: true }, { not: { eq: 1 } }]) {
      expect(p(spec).evaluate(tool('t')).effect).toBe('deny');
    }
  });
  it('make exists: false true, and not of a condition true', () => {
    expect(p({ exists: false }).evaluate(tool('t')).effect).toBe('allow');
    const q = policy([{ id: 'r', effect: 'allow', when: { not: { 'input.v': 'x' } } }]);
    expect(q.evaluate(tool('t')).effect).toBe('allow');
  });
  it('treat undefined as missing', () => {
    expect(p({ exists: false }).evaluate(tool('t', { v: undefined })).effect).toBe('allow');
  });
});

describe('paths', () => {
  it('wildcards match when any element matches', () => {
    const p = policy([{ id: 'r', effect: 'deny', when: { 'input.to.*': { not: { endsWith: '@acme.com' } } } }], { default: 'allow' });
    expect(p.evaluate(tool('email.send', { to: ['a@acme.com', 'b@acme.com'] })).effect).toBe('allow');
    expect(p.evaluate(tool('email.send', { to: ['a@acme.com', 'b@evil.com'] })).effect).toBe('deny');
    expect(p.evaluate(tool('email.send', { to: { x: 'b@evil.com' } })).effect).toBe('deny');
  });
  it('never read the prototype chain', () => {
    const p = policy([{ id: 'r', effect: 'allow', when: { 'input.constructor': { exists: true } } }]);
    expect(p.evaluate(tool('t', {})).effect).toBe('deny');
    const q = policy([{ id: 'r', effect: 'allow', when: { 'input.__proto__': { exists: true } } }]);
    expect(q.evaluate(tool('t', {})).effect).toBe('deny');
  });
  it('index into arrays', () => {
    const p = policy([{ id: 'r', effect: 'allow', when: { 'input.args.0': 'rm' } }]);
    expect(p.evaluate(tool('shell', { args: ['rm', '-rf'] })).effect).toBe('allow');
    expect(p.evaluate(tool('shell', { args: ['ls'] })).effect).toBe('deny');
  });
  it('read agent and context', () => {
    const p = policy([{ id: 'r', effect: 'allow', when: { 'agent.id': 'bot', 'context.env': { in: ['dev', 'staging'] } } }]);
    expect(p.evaluate(tool('t', {}, { agent: { id: 'bot' }, context: { env: 'dev' } })).effect).toBe('allow');
    expect(p.evaluate(tool('t', {}, { agent: { id: 'bot' }, context: { env: 'prod' } })).effect).toBe('deny');
  });
});

describe('combining', () => {
  const rules = [
    { id: 'allow-all', effect: 'allow' },
    { id: 'approve-big', effect: 'require_approval', when: { 'input.amount': { gt: 100 } } },
    { id: 'deny-huge', effect: 'deny', when: { 'input.amount': { gt: 1000 } }, message: 'too big' },
    { id: 'tag', effect: 'transform', when: { 'input.amount': { gt: 10 } }, transform: [{ set: 'input.tagged', value: true }] },
  ];
  const p = policy(rules);
  it('deny beats everything', () => {
    const d = p.evaluate(tool('pay', { amount: 5000 }));
    expect(d.effect).toBe('deny');
    expect(d.reasons).toEqual([{ rule: 'deny-huge', effect: 'deny', message: 'too big' }]);
  });
  it('require_approval beats transform and allow, and carries the transformed action', () => {
    const d = p.evaluate(tool('pay', { amount: 500 }));
    expect(d.effect).toBe('require_approval');
    expect(d.action.input).toEqual({ amount: 500, tagged: true });
  });
  it('transform beats allow', () => {
    const d = p.evaluate(tool('pay', { amount: 50 }));
    expect(d.effect).toBe('transform');
    expect(d.action.input).toEqual({ amount: 50, tagged: true });
  });
  it('allow when only allow matches', () => {
    expect(p.evaluate(tool('pay', { amount: 5 })).effect).toBe('allow');
  });
  it('default deny when omitted, default allow when asked', () => {
    expect(policy([]).evaluate(tool('x')).effect).toBe('deny');
    expect(policy([]).evaluate(tool('x')).reasons[0].code).toBe('default');
    expect(policy([], { default: 'allow' }).evaluate(tool('x')).effect).toBe('allow');
  });
  it('indexes by kind and name without changing answers', () => {
    const q = policy([
      { id: 'a', effect: 'allow', when: { kind: 'tool', name: { in: ['a', 'b'] } } },
      { id: 'c', effect: 'allow', when: { kind: 'llm', name: 'c' } },
    ]);
    expect(q.evaluate(tool('a')).effect).toBe('allow');
    expect(q.evaluate(tool('c')).effect).toBe('deny');
    expect(q.evaluate({ kind: 'llm', name: 'c' }).effect).toBe('allow');
  });
});

describe('transforms', () => {
  const t = (steps: unknown[]) => policy([{ id: 't', effect: 'transform', transform: steps }]);
  it('set creates intermediate objects', () => {
    expect(t([{ set: 'input.a.b', value: 1 }]).evaluate(tool('x')).action.input).toEqual({ a: { b: 1 } });
  });
  it('remove deletes a field and tolerates a missing one', () => {
    expect(t([{ remove: 'input.secret' }, { remove: 'input.nope' }]).evaluate(tool('x', { secret: 's', keep: 1 })).action.input).toEqual({ keep: 1 });
  });
  it('keep is an allow-list', () => {
    const d = t([{ keep: ['query', 'opts.limit'] }]).evaluate(tool('x', { query: 'q', opts: { limit: 5, raw: true }, extra: 1 }));
    expect(d.action.input).toEqual({ query: 'q', opts: { limit: 5 } });
  });
  it('clamp bounds numbers', () => {
    expect(t([{ clamp: 'input.limit', max: 100 }]).evaluate(tool('x', { limit: 5000 })).action.input).toEqual({ limit: 100 });
    expect(t([{ clamp: 'input.limit', min: 1 }]).evaluate(tool('x', { limit: -3 })).action.input).toEqual({ limit: 1 });
  });
  it('replace rewrites every match', () => {
    const d = t([{ replace: 'input.text', pattern: '\\d{3}-\\d{2}-\\d{4}', with: '[SSN]' }]).evaluate(tool('x', { text: '123-45-6789 and 987-65-4321' }));
    expect(d.action.input).toEqual({ text: '[SSN] and [SSN]' });
  });
  it('a step that cannot apply denies instead of passing the action through', () => {
    const d = t([{ clamp: 'input.limit', max: 10 }]).evaluate(tool('x', { limit: 'lots' }));
    expect(d.effect).toBe('deny');
    expect(d.reasons[0].code).toBe('transform_error');
    const e = t([{ set: 'input.a.b', value: 1 }]).evaluate(tool('x', { a: 'string' }));
    expect(e.effect).toBe('deny');
  });
  it('never mutates the input', () => {
    const action = tool('x', { limit: 5000, nested: { a: 1 } });
    const before = structuredClone(action);
    t([{ clamp: 'input.limit', max: 1 }, { set: 'input.nested.a', value: 2 }, { remove: 'input.nested' }]).evaluate(action);
    expect(action).toEqual(before);
  });
  it('applies transforms of several rules in file order', () => {
    const p = policy([
      { id: 'one', effect: 'transform', transform: [{ set: 'input.v', value: 1 }] },
      { id: 'two', effect: 'transform', transform: [{ set: 'input.v', value: 2 }] },
    ]);
    const d = p.evaluate(tool('x'));
    expect(d.action.input).toEqual({ v: 2 });
    expect(d.reasons.map((r) => r.rule)).toEqual(['one', 'two']);
  });
});

describe('fail closed', () => {
  it('denies invalid actions', () => {
    const p = policy([{ id: 'a', effect: 'allow' }]);
    for (const bad of [null, 'x', [], {}, { kind: 'tool' }, { kind: 1, name: 'x' }, { kind: 'tool', name: 'x', input: 'no' }, { kind: 'tool', name: 'x', extra: 1 }]) {
      const d = p.evaluate(bad as unknown as Action);
      expect(d.effect).toBe('deny');
      expect(d.reasons[0].code).toBe('invalid_action');
    }
  });
  it('a deny rule that throws counts as deny; an allow rule that throws does not allow', () => {
    const p = policy([
      { id: 'allow', effect: 'allow', when: { 'input.v': { exists: true } } },
      { id: 'deny', effect: 'deny', when: { 'input.w': 'x' } },
    ]);
    const input = {} as Record<string, unknown>;
    Object.defineProperty(input, 'w', { enumerable: true, get: () => { throw new Error('boom'); } });
    const d = p.evaluate(tool('x', input));
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ rule: 'deny', code: 'rule_error' });
    const q = policy([{ id: 'allow', effect: 'allow', when: { 'input.w': 'x' } }], { default: 'deny' });
    expect(q.evaluate(tool('x', input)).effect).toBe('deny');
  });
  it('an action that cannot be copied for a transform is denied', () => {
    const p = policy([{ id: 't', effect: 'transform', transform: [{ set: 'input.a', value: 1 }] }]);
    expect(p.evaluate(tool('x', { fn: () => 1 })).effect).toBe('deny');
  });
});

describe('decisions', () => {
  it('carry id, policy name and hash, and elapsed time', () => {
    const p = policy([{ id: 'a', effect: 'allow' }]);
    const d = p.evaluate(tool('x'));
    expect(d.id).toMatch(/^dec_[0-9a-f]{32}$/);
    expect(d.policy).toEqual({ name: 'test', hash: p.hash });
    expect(p.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(d.elapsedUs).toBeGreaterThanOrEqual(0);
    expect(p.evaluate(tool('x')).id).not.toBe(d.id);
  });
  it('the hash ignores key order and formatting but not content', () => {
    const a = Policy.parse('version: 1\nname: n\nrules: [{id: a, effect: allow}]\n');
    const b = Policy.parse('{"rules":[{"effect":"allow","id":"a"}],"name":"n","version":1}');
    const c = Policy.parse('version: 1\nname: n\nrules: [{id: a, effect: deny}]\n');
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
  });
});

describe('loading errors', () => {
  const problems = (text: string, filename = 'p.yaml') => {
    try {
      Policy.parse(text, { filename });
    } catch (error) {
      if (error instanceof PolicyError) return error.problems;
      throw error;
    }
    throw new Error('expected a PolicyError');
  };
  it('point at the line and column of a wrongly typed operand', () => {
    const [p] = problems('version: 1\nname: x\nrules:\n  - id: a\n    effect: allow\n    when:\n      input.amount: { gt: "1000" }\n');
    expect(p).toMatchObject({ path: 'rules[0].when.input.amount.gt', line: 7, column: 27 });
    expect(p.message).toContain('must be a number');
  });
  it('name unknown operators with a suggestion', () => {
    const [p] = problems('version: 1\nname: x\nrules:\n  - id: a\n    effect: allow\n    when: { input.a: { regx: "a" } }\n');
    expect(p.message).toBe('unknown operator "regx"');
    expect(p.hint).toContain('Did you mean "regex"?');
    expect(p.line).toBe(6);
  });
  it('name unknown condition keys', () => {
    const [p] = problems('version: 1\nname: x\nrules:\n  - id: a\n    effect: allow\n    when: { inptu.a: 1 }\n');
    expect(p.message).toContain('unknown condition key "inptu.a"');
  });
  it('report duplicate ids and regexes that do not compile', () => {
    const ps = problems('version: 1\nname: x\nrules:\n  - id: a\n    effect: allow\n  - id: a\n    effect: deny\n    when: { input.s: { regex: "(" } }\n');
    expect(ps.map((p) => p.code).sort()).toEqual(['compile', 'duplicate-rule-id']);
    expect(ps.find((p) => p.code === 'compile')!.message).toContain('does not compile');
  });
  it('reject transforms on a non-transform rule and a transform rule without steps', () => {
    const ps = problems('version: 1\nname: x\nrules:\n  - id: a\n    effect: allow\n    transform: [{ remove: input.a }]\n  - id: b\n    effect: transform\n');
    expect(ps.map((p) => p.message)).toEqual(expect.arrayContaining([expect.stringContaining('only allowed on a rule with effect: transform'), 'missing required field "transform"']));
  });
  it('reject lists used as values, with a hint', () => {
    const [p] = problems('version: 1\nname: x\nrules:\n  - id: a\n    effect: allow\n    when: { kind: [tool, llm] }\n');
    expect(p.hint).toContain('{ in: [a, b] }');
  });
  it('reject stateful regex flags', () => {
    const [p] = problems('version: 1\nname: x\nrules:\n  - id: a\n    effect: allow\n    when: { name: { regex: a, flags: g } }\n');
    expect(p.path).toBe('rules[0].when.name.flags');
  });
  it('reject deep nesting', () => {
    let when = '{ name: x }';
    for (let i = 0; i < 40; i++) when = `{ not: ${when} }`;
    expect(() => Policy.parse(`version: 1\nname: x\nrules:\n  - id: a\n    effect: allow\n    when: ${when}\n`)).toThrow(/nested/);
  });
  it('give syntax errors a position', () => {
    try {
      Policy.parse('version: 1\nname: x\nrules:\n  - id: a\n   effect: [\n', { filename: 'bad.yaml' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SourceError);
      expect((error as SourceError).message).toMatch(/^bad\.yaml:\d+:\d+: not valid YAML/);
    }
    expect(() => Policy.parse('{"version": 1,', { filename: 'bad.json' })).toThrow(/^bad\.json:1:\d+: not valid JSON/);
    expect(() => Policy.parse('   \n', { filename: 'e.yaml' })).toThrow(/empty/);
    expect(() => Policy.parse('a: 1\na: 2\n', { filename: 'd.yaml' })).toThrow(/d\.yaml:2:1/);
    expect(() => Policy.parse('{"version": 1, "name": "x",\n "rules": [{"id": "a", "effect": "allow", "effect": "deny"}]}', { filename: 'd.json' })).toThrow(
      /d\.json:2:\d+: a key appears twice/,
    );
  });
  it('reject files that are not policies', () => {
    expect(() => Policy.parse('- just\n- a list\n')).toThrow(PolicyError);
    expect(() => Policy.parse('hello')).toThrow(PolicyError);
  });
});
