/**
 * Decides, soundly but not completely, whether conditions contradict each other and whether one condition implies
 * another. "Sound" means a reported contradiction or implication is always real; some real ones go unnoticed.
 * Values at one plain path are one value, so every check on it must hold for it; each check on a wildcard path
 * (`input.to.*`) may be satisfied by a different element, so those are only compared with themselves.
 */
import { deepEqual } from '../conditions.js';
import type { PathSegment } from '../problem.js';
import type { Condition, OperatorObject } from '../types.js';
import {
  alwaysPresent, atomsOf, atomsOfOperators, collectConjunction, CONTAINER_TYPES, describeAtom, describeCheck, holdsFor,
  intrinsicTypes, isOperatorObject, isPrefix, isStrictPrefix, makeCheck, sameAtom, shortJson, T, typeOfValue, typesOfAtom, typeWords,
  type Atom, type Conjunction, type PathCheck,
} from './facts.js';

/** Why a set of conditions can never all hold, and where to point. */
export interface Contradiction {
  message: string;
  at: PathSegment[];
}

interface Bound {
  value: number;
  strict: boolean;
  atom: Atom;
}

function lowerBound(atoms: Atom[]): Bound | undefined {
  let best: Bound | undefined;
  for (const atom of atoms) {
    if (atom.op !== 'gt' && atom.op !== 'gte') continue;
    const b = { value: atom.operand as number, strict: atom.op === 'gt', atom };
    if (!best || b.value > best.value || (b.value === best.value && b.strict && !best.strict)) best = b;
  }
  return best;
}

function upperBound(atoms: Atom[]): Bound | undefined {
  let best: Bound | undefined;
  for (const atom of atoms) {
    if (atom.op !== 'lt' && atom.op !== 'lte') continue;
    const b = { value: atom.operand as number, strict: atom.op === 'lt', atom };
    if (!best || b.value < best.value || (b.value === best.value && b.strict && !best.strict)) best = b;
  }
  return best;
}

function typesOfGroup(pathText: string, atoms: Atom[]): number {
  return atoms.reduce((acc, a) => acc & typesOfAtom(a), intrinsicTypes(pathText));
}

/**
 * The finite set of values the atoms allow (from eq, in, or a one-point range), or undefined when it is not finite.
 * `emptiedBy` is the eq/in atom that left no value, and `first` the one that started the set.
 */
function candidateValues(atoms: Atom[]): { values: unknown[]; first?: Atom; emptiedBy?: Atom } | undefined {
  let values: unknown[] | undefined;
  let first: Atom | undefined;
  for (const atom of atoms) {
    if (atom.op !== 'eq' && atom.op !== 'in') continue;
    const allowed = atom.op === 'eq' ? [atom.operand] : (atom.operand as unknown[]);
    if (!values) {
      values = [...allowed];
      first = atom;
      continue;
    }
    values = values.filter((v) => allowed.some((x) => deepEqual(x, v)));
    if (values.length === 0) return { values, first, emptiedBy: atom };
  }
  if (values) return { values, first };
  const lo = lowerBound(atoms);
  const hi = upperBound(atoms);
  if (lo && hi && lo.value === hi.value && !lo.strict && !hi.strict) return { values: [lo.value] };
  return undefined;
}

function sortByPosition<X extends { at: PathSegment[] }>(items: X[], order: Map<X, number>): X[] {
  return [...items].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
}

/** Checks that must all hold for one value at one path (all of them present-requiring). */
function groupContradiction(pathText: string, checks: PathCheck[]): Contradiction | undefined {
  const atoms = checks.flatMap(atomsOf);
  const index = new Map(atoms.map((a, i) => [a, i]));

  // Types: the first atom that leaves no possible type, against the atom (or the path itself) it conflicts with.
  const intrinsic = intrinsicTypes(pathText);
  let types = intrinsic;
  for (const atom of atoms) {
    const next = types & typesOfAtom(atom);
    if (next === 0) {
      const other = atoms.find((a) => a !== atom && (typesOfAtom(a) & typesOfAtom(atom)) === 0 && index.get(a)! < index.get(atom)!);
      if (!other && (intrinsic & typesOfAtom(atom)) === 0) {
        return { at: atom.at, message: `${pathText} is always ${typeWords(intrinsic)}, so ${describeAtom(atom)} never holds` };
      }
      return {
        at: atom.at,
        message: other
          ? `${pathText} cannot be both ${describeAtom(other)} and ${describeAtom(atom)}: one needs ${typeWords(typesOfAtom(other))}, the other ${typeWords(typesOfAtom(atom))}`
          : `${pathText} cannot satisfy ${describeAtom(atom)} together with the other conditions on it (no value type fits them all)`,
      };
    }
    types = next;
  }

  const lo = lowerBound(atoms);
  const hi = upperBound(atoms);
  if (lo && hi && (lo.value > hi.value || (lo.value === hi.value && (lo.strict || hi.strict)))) {
    const [first, second] = sortByPosition([lo.atom, hi.atom], index);
    return { at: second.at, message: `${pathText} cannot be both ${describeAtom(first)} and ${describeAtom(second)}: no number is in that range` };
  }

  for (const op of ['startsWith', 'endsWith'] as const) {
    const fixes = atoms.filter((a) => a.op === op && typeof a.operand === 'string');
    for (let i = 1; i < fixes.length; i++) {
      for (let j = 0; j < i; j++) {
        const [a, b] = [fixes[j].operand as string, fixes[i].operand as string];
        const compatible = op === 'startsWith' ? a.startsWith(b) || b.startsWith(a) : a.endsWith(b) || b.endsWith(a);
        if (!compatible) return { at: fixes[i].at, message: `${pathText} cannot both ${op === 'startsWith' ? 'start' : 'end'} with ${shortJson(a)} and with ${shortJson(b)}` };
      }
    }
  }

  for (const atom of atoms) {
    if (atom.op !== 'not') continue;
    const inner = atom.operand as OperatorObject;
    const innerAtoms = atomsOfOperators(inner, atom.at);
    if (innerAtoms.length === 0) {
      return { at: atom.at, message: `"not" of ${shortJson(inner)} is always false ("exists" has no effect inside "not"; use exists: false instead)` };
    }
    const rest = atoms.filter((a) => a !== atom);
    if (innerAtoms.every((a) => atomImplied(pathText, rest, a))) {
      return { at: atom.at, message: `${pathText}: ${describeAtom(atom)} excludes what the other conditions on it require` };
    }
  }

  const candidates = candidateValues(atoms);
  if (candidates?.emptiedBy) {
    return { at: candidates.emptiedBy.at, message: `${pathText} cannot be both ${describeAtom(candidates.first!)} and ${describeAtom(candidates.emptiedBy)}` };
  }
  if (candidates) {
    let survivors = candidates.values;
    for (const check of checks) {
      const next = survivors.filter((v) => holdsFor(check, v) !== false);
      if (next.length === 0) {
        const what = survivors.length === 1 ? shortJson(survivors[0]) : `one of ${shortJson(survivors)}`;
        return { at: check.at, message: `${pathText} must be ${what} here, and ${describeCheck(check)} never holds for ${survivors.length === 1 ? 'it' : 'any of them'}` };
      }
      survivors = next;
    }
  }
  return undefined;
}

/** Finds a contradiction among checks that must all hold at once (one conjunction), or undefined. */
export function findContradiction(checks: PathCheck[]): Contradiction | undefined {
  const byPath = new Map<string, PathCheck[]>();
  for (const c of checks) byPath.set(c.pathText, [...(byPath.get(c.pathText) ?? []), c]);

  for (const [pathText, group] of byPath) {
    const absent = group.filter((c) => c.absent);
    const present = group.filter((c) => !c.absent);
    if (absent.length > 0 && alwaysPresent(pathText)) {
      return { at: [...absent[0].at, 'exists'], message: `every action has ${pathText}, so exists: false never holds` };
    }
    if (absent.length > 0 && present.length > 0) {
      const later = checks.indexOf(absent[0]) > checks.indexOf(present[0]) ? absent[0] : present[0];
      return {
        at: later.at,
        message: `${pathText} is required to be missing (exists: false) and also ${describeCheck(present[0]).slice(pathText.length + 1)}, which needs it present`,
      };
    }
    if (present.length === 0) continue;
    const groups = present[0].wildcard ? present.map((c) => [c]) : [present];
    for (const g of groups) {
      const found = groupContradiction(pathText, g);
      if (found) return found;
    }
  }

  // A prefix that is missing or not a container means nothing under it exists.
  for (const [pathText, group] of byPath) {
    const parent = group[0];
    if (parent.wildcard) continue;
    const children = checks.filter((c) => !c.absent && isStrictPrefix(parent.segments, c.segments));
    if (children.length === 0) continue;
    const child = children[0];
    if (group.some((c) => c.absent)) {
      return { at: child.at, message: `${child.pathText} cannot exist when ${pathText} is required to be missing (exists: false)` };
    }
    const types = typesOfGroup(pathText, group.flatMap(atomsOf));
    if ((types & CONTAINER_TYPES) === 0) {
      return { at: child.at, message: `${pathText} is ${typeWords(types)} here, so ${child.pathText} never exists` };
    }
  }
  return undefined;
}

/** Result of checking one conjunction with the checks of the conjunctions around it. */
export interface ConjunctionResult {
  contradiction?: Contradiction;
  /** `any` branches that can never match (when the whole can). */
  deadBranches: Array<{ at: PathSegment[]; contradiction: Contradiction }>;
}

/** Whether a conjunction (with the checks that enclose it) can ever hold; `any` groups are checked branch by branch. */
export function checkConjunction(conj: Conjunction, outer: PathCheck[] = []): ConjunctionResult {
  const checks = [...outer, ...conj.checks];
  const direct = findContradiction(checks);
  if (direct) return { contradiction: direct, deadBranches: [] };
  for (const n of conj.nots) {
    if (impliesCondition({ checks, anys: conj.anys, nots: conj.nots.filter((m) => m !== n).map((m) => m.condition) }, n.condition)) {
      return { contradiction: { at: n.at, message: `"not" negates ${shortJson(n.condition)}, which the other conditions already require, so it is always false` }, deadBranches: [] };
    }
  }
  const dead: ConjunctionResult['deadBranches'] = [];
  for (const group of conj.anys) {
    const results = group.branches.map((b) => checkConjunction(b, checks));
    if (results.every((r) => r.contradiction)) {
      const reason = results.length === 1 ? results[0].contradiction!.message : results.map((r, i) => `[${i}] ${r.contradiction!.message}`).join('; ');
      return { contradiction: { at: group.at, message: `no branch of "any" can hold with the other conditions (${reason})` }, deadBranches: [] };
    }
    results.forEach((r, i) => {
      if (r.contradiction) dead.push({ at: group.branches[i].at, contradiction: r.contradiction });
      else dead.push(...r.deadBranches);
    });
  }
  return { deadBranches: dead };
}

/** True when no action satisfies the condition (as far as can be decided). */
export function neverHolds(when: Condition, outer: PathCheck[] = []): boolean {
  return checkConjunction(collectConjunction(when, []), outer).contradiction !== undefined;
}

/** What is known to hold: checks that all hold, and `any` groups of which one branch holds. */
export interface Knowledge {
  checks: PathCheck[];
  anys: Conjunction['anys'];
  /** Conditions known to be false (from `not`). */
  nots?: Condition[];
  /** `detect` conditions known to hold. */
  detects?: unknown[];
}

/** Limits case splits on `any` so that implication stays cheap on large policies. */
const MAX_SPLITS = 3;

/** True when every action satisfying `known` also satisfies `target` (as far as can be decided). */
export function impliesCondition(known: Knowledge, target: Condition | undefined, splits = 0): boolean {
  if (target === undefined || target === null) return true;
  const direct = Object.entries(target).every(([key, spec]) => {
    if (key === 'all') return (spec as Condition[]).every((c) => impliesCondition(known, c, splits));
    if (key === 'any') return (spec as Condition[]).some((c) => impliesCondition(known, c, splits));
    if (key === 'not') return (known.nots ?? []).some((n) => deepEqual(n, spec)) || neverHolds(spec as Condition, known.checks);
    if (key === 'detect') return (known.detects ?? []).some((d) => deepEqual(d, spec));
    if (key === 'time') return (known.detects ?? []).some((d) => deepEqual(d, { time: spec }));
    return impliesCheck(known.checks, makeCheck(key, spec, []));
  });
  if (direct || splits >= MAX_SPLITS || known.anys.length === 0) return direct;
  // Case split: if every branch of one `any` leads to the target, the target holds.
  const [first, ...rest] = known.anys;
  return first.branches.every((b) =>
    impliesCondition({ checks: [...known.checks, ...b.checks], anys: [...rest, ...b.anys], nots: [...(known.nots ?? []), ...b.nots.map((n) => n.condition)], detects: [...(known.detects ?? []), ...b.detects] }, target, splits + 1),
  );
}

/** True when the known checks guarantee `target`. */
export function impliesCheck(known: PathCheck[], target: PathCheck): boolean {
  if (known.some((c) => c.pathText === target.pathText && deepEqual(c.spec, target.spec))) return true;
  if (target.absent) {
    return known.some((c) => c.absent && (c.pathText === target.pathText || (!c.wildcard && isPrefix(c.segments, target.segments))));
  }
  if (target.wildcard) {
    return known.some((c) => !c.absent && c.pathText === target.pathText && groupImplies(target.pathText, [c], target, false));
  }
  const group = known.filter((c) => !c.absent && c.pathText === target.pathText);
  const viaChild = alwaysPresent(target.pathText) || known.some((c) => !c.absent && isStrictPrefix(target.segments, c.segments));
  return groupImplies(target.pathText, group, target, viaChild);
}

function groupImplies(pathText: string, group: PathCheck[], target: PathCheck, presentAnyway: boolean): boolean {
  const targetAtoms = atomsOf(target);
  if (group.length === 0) return presentAnyway && targetAtoms.every((a) => atomImplied(pathText, [], a));
  const atoms = group.flatMap(atomsOf);
  const candidates = candidateValues(atoms);
  if (candidates) {
    const survivors = candidates.values.filter((v) => group.every((c) => holdsFor(c, v) !== false));
    return survivors.every((v) => holdsFor(target, v) === true);
  }
  return targetAtoms.every((a) => atomImplied(pathText, atoms, a));
}

/** True when a present value satisfying every atom in `atoms` also satisfies `atom`. */
function atomImplied(pathText: string, atoms: Atom[], atom: Atom): boolean {
  if (atoms.some((a) => sameAtom(a, atom))) return true;
  const types = typesOfGroup(pathText, atoms);
  const operand = atom.operand;
  switch (atom.op) {
    case 'gt':
    case 'gte': {
      const lo = lowerBound(atoms);
      return types === T.number && lo !== undefined && (lo.value > (operand as number) || (lo.value === operand && (lo.strict || atom.op === 'gte')));
    }
    case 'lt':
    case 'lte': {
      const hi = upperBound(atoms);
      return types === T.number && hi !== undefined && (hi.value < (operand as number) || (hi.value === operand && (hi.strict || atom.op === 'lte')));
    }
    case 'startsWith':
      return atoms.some((a) => a.op === 'startsWith' && (a.operand as string).startsWith(operand as string));
    case 'endsWith':
      return atoms.some((a) => a.op === 'endsWith' && (a.operand as string).endsWith(operand as string));
    case 'contains':
      return (
        types === T.string &&
        typeof operand === 'string' &&
        atoms.some((a) => ['contains', 'startsWith', 'endsWith'].includes(a.op) && typeof a.operand === 'string' && a.operand.includes(operand))
      );
    case 'ne':
      return (types & typeOfValue(operand)) === 0;
    case 'not': {
      if (!isOperatorObject(operand)) return false;
      // `not O` holds for every such value when no value satisfies the atoms and O together.
      const probe = makeCheck(pathText, operand, []);
      const owners = atoms.map((a) => makeCheck(pathText, Object.fromEntries(atomEntry(a)), []));
      return atomsOf(probe).length > 0 && owners.length > 0 && groupContradiction(pathText, [...owners, probe]) !== undefined;
    }
    default:
      return false;
  }
}

/** An atom back as operator-object entries (regex with its flags). */
function atomEntry(atom: Atom): Array<[string, unknown]> {
  if (atom.op === 'regex') {
    const { source, flags } = atom.operand as { source: string; flags: string };
    return flags ? [['regex', source], ['flags', flags]] : [['regex', source]];
  }
  return [[atom.op, atom.operand]];
}

