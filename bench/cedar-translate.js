/**
 * Translates the allow/deny agentguard policies the bench generates into Cedar, and actions into Cedar requests.
 *
 * An action becomes: principal Agent::"<agent.id>", action Action::"<kind>", resource Tool::"<name>", and the context
 * record { name, input, ctx } (ctx is the action's own context). Only operators with an exact Cedar equivalent are
 * accepted, and anything else throws, so a bench policy can never quietly mean something different in Cedar:
 * literals and `in` on kind, name and agent.id become entity comparisons; `glob` (names only), `startsWith`,
 * `endsWith` and simple regexes (literal text, one `(a|b)` group, `^`/`$` anchors) become `like` patterns; number
 * comparisons stay comparisons. agentguard treats a missing field as "condition false", so every attribute read is
 * guarded by `has`, which gives Cedar the same meaning without evaluation errors.
 */

const ENTITY = { kind: 'Action', name: 'Tool', 'agent.id': 'Agent' };
const SCOPE_VAR = { kind: 'action', name: 'resource', 'agent.id': 'principal' };

/** A Cedar string literal. */
function str(text) {
  return JSON.stringify(text);
}

function entity(type, id) {
  return `${type}::${str(id)}`;
}

/** A `like` pattern matching `text` literally; `*` becomes `\*` so only the wildcards we add are wildcards. */
function likeLiteral(text) {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\*/g, '\\*');
}

function globToLike(glob) {
  if (/[?[\]{}\\]/.test(glob)) throw new Error(`glob ${str(glob)} uses more than "*", which Cedar's like cannot express`);
  return glob.split('*').map(likeLiteral).join('*');
}

/** Expands a regex of the form ^?literal(alt|alt)literal$? into `like` patterns that match exactly the same strings. */
function regexToLikes(source, flags) {
  if (flags) throw new Error(`regex flags "${flags}" have no Cedar equivalent`);
  const m = /^(\^?)((?:[^\\()|^$[\]{}.*+?]|\\[^A-Za-z0-9])*)(?:\(((?:[^\\()|^$[\]{}.*+?]|\\[^A-Za-z0-9]|\|)*)\))?((?:[^\\()|^$[\]{}.*+?]|\\[^A-Za-z0-9])*)(\$?)$/.exec(source);
  if (!m) throw new Error(`regex /${source}/ is not a literal with one alternation group, so it has no exact like translation`);
  const [, start, before, group, after, end] = m;
  const unescape = (s) => s.replace(/\\(.)/g, '$1');
  const alternatives = group === undefined ? [''] : group.split('|');
  return alternatives.map((alt) => `${start ? '' : '*'}${likeLiteral(unescape(before + alt + after))}${end ? '' : '*'}`);
}

/** `context.input.amount`-style access for an input/context path, plus the `has` guards that make it safe. */
function attribute(path) {
  const [root, ...rest] = path.split('.');
  if ((root !== 'input' && root !== 'context') || rest.length === 0 || rest.includes('*')) {
    throw new Error(`path "${path}" has no Cedar translation in the bench`);
  }
  let expr = root === 'input' ? 'context.input' : 'context.ctx';
  const guards = [];
  for (const key of rest) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`field "${key}" is not a Cedar identifier`);
    guards.push(`${expr} has ${key}`);
    expr = `${expr}.${key}`;
  }
  return { expr, guard: guards.join(' && ') };
}

function literal(value) {
  if (typeof value === 'string') return str(value);
  if (typeof value === 'boolean') return String(value);
  if (Number.isSafeInteger(value)) return String(value);
  throw new Error(`${JSON.stringify(value)} has no Cedar literal (Cedar numbers are integers)`);
}

/**
 * Translates one operator object (or literal) applied to `expr`. `entityType` is set when `expr` is an entity
 * (principal, action, resource); `likeExpr` is the string to match patterns against (undefined when there is none).
 */
function valueTest(expr, spec, target) {
  const { entityType, likeExpr } = target;
  const equals = (value) => {
    if (value !== null && typeof value === 'object') throw new Error(`comparing ${expr} with an object has no Cedar translation`);
    return entityType ? `${expr} == ${entity(entityType, value)}` : `${expr} == ${literal(value)}`;
  };
  if (spec === null || typeof spec !== 'object') return equals(spec);
  const parts = [];
  for (const [op, operand] of Object.entries(spec)) {
    const likeOn = () => {
      if (likeExpr === undefined) throw new Error(`"${op}" on ${expr} has no Cedar translation`);
      return likeExpr;
    };
    switch (op) {
      case 'eq':
        parts.push(equals(operand));
        break;
      case 'ne':
        parts.push(`!(${equals(operand)})`);
        break;
      case 'in':
        parts.push(entityType ? `${expr} in [${operand.map((v) => entity(entityType, v)).join(', ')}]` : `[${operand.map(literal).join(', ')}].contains(${expr})`);
        break;
      case 'glob': {
        const globs = Array.isArray(operand) ? operand : [operand];
        parts.push(`(${globs.map((g) => `${likeOn()} like "${globToLike(g)}"`).join(' || ')})`);
        break;
      }
      case 'regex':
        parts.push(`(${regexToLikes(operand, spec.flags).map((p) => `${likeOn()} like "${p}"`).join(' || ')})`);
        break;
      case 'startsWith':
        parts.push(`${likeOn()} like "${likeLiteral(operand)}*"`);
        break;
      case 'endsWith':
        parts.push(`${likeOn()} like "*${likeLiteral(operand)}"`);
        break;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (entityType) throw new Error(`"${op}" on ${expr} has no Cedar translation`);
        parts.push(`${expr} ${{ gt: '>', gte: '>=', lt: '<', lte: '<=' }[op]} ${literal(operand)}`);
        break;
      case 'not':
        parts.push(`!(${valueTest(expr, operand, target)})`);
        break;
      case 'exists':
      case 'flags':
        break;
      default:
        throw new Error(`operator "${op}" has no exact Cedar translation`);
    }
  }
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

/** A `when` condition as a Cedar expression; `scoped` lists top-level keys already expressed in the policy scope. */
function condition(when, scoped = new Set()) {
  const parts = [];
  for (const [key, spec] of Object.entries(when)) {
    if (scoped.has(key)) continue;
    if (key === 'all' || key === 'any') {
      parts.push(`(${spec.map((c) => condition(c)).join(key === 'all' ? ' && ' : ' || ')})`);
    } else if (key === 'not') {
      parts.push(`!(${condition(spec)})`);
    } else if (key in ENTITY) {
      // kind, name and agent.id are always present in the bench's requests, so they need no guard.
      parts.push(valueTest(SCOPE_VAR[key], spec, { entityType: ENTITY[key], likeExpr: key === 'name' ? 'context.name' : undefined }));
    } else {
      const { expr, guard } = attribute(key);
      const exists = spec !== null && typeof spec === 'object' ? spec.exists : undefined;
      if (exists === false) parts.push(`!(${guard})`);
      else parts.push(`(${guard} && ${valueTest(expr, spec, { likeExpr: expr })})`);
    }
  }
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

/** One agentguard allow/deny rule as a Cedar policy. Literal kind and name go into the scope, as a Cedar author would write them. */
export function ruleToCedar(rule) {
  if (rule.effect !== 'allow' && rule.effect !== 'deny') throw new Error(`rule "${rule.id}": Cedar has no "${rule.effect}" effect`);
  const when = rule.when ?? {};
  const scoped = new Set();
  let actionScope = 'action';
  let resourceScope = 'resource';
  if (typeof when.kind === 'string') {
    actionScope = `action == ${entity('Action', when.kind)}`;
    scoped.add('kind');
  }
  if (typeof when.name === 'string') {
    resourceScope = `resource == ${entity('Tool', when.name)}`;
    scoped.add('name');
  }
  const body = condition(when, scoped);
  const head = `${rule.effect === 'allow' ? 'permit' : 'forbid'}(principal, ${actionScope}, ${resourceScope})`;
  return body === 'true' ? `${head};` : `${head}\nwhen { ${body} };`;
}

/** Cedar policies keyed by rule id, as `preparsePolicySet` takes them, so Cedar's reasons name the same rules. */
export function policyToCedar(document) {
  if ((document.default ?? 'deny') !== 'deny') throw new Error('Cedar denies by default; the bench policy must too');
  return Object.fromEntries(document.rules.map((rule) => [rule.id, ruleToCedar(rule)]));
}

/** The Cedar request for an action, against a pre-parsed policy set. */
export function actionToCedarCall(action, preparsedPolicySetId) {
  return {
    principal: { type: 'Agent', id: action.agent?.id ?? '' },
    action: { type: 'Action', id: action.kind },
    resource: { type: 'Tool', id: action.name },
    context: { name: action.name, input: action.input ?? {}, ctx: action.context ?? {} },
    preparsedPolicySetId,
    entities: [],
  };
}
