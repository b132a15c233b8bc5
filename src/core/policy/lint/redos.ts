import type { Diagnostics } from 'recheck';
import type { PathSegment } from '../problem.js';
import type { OperatorObject, PolicyDocument } from '../types.js';
import { shortJson } from './facts.js';
import { lintProblem, type LintProblem } from './lint-problem.js';
import { loadSafeKeys, regexKey, saveSafeKeys } from './redos-cache.js';
import { confirmBudgetMs, finishesWithin, scaledAttack } from './redos-confirm.js';
import { DEFAULT_REGEX_MAX_LENGTH } from '../regex-limits.js';

/** Default time recheck may spend on one regex before the result is reported as unknown. */
export const DEFAULT_REDOS_TIMEOUT_MS = 10_000;

interface RegexSite {
  source: string;
  flags: string;
  at: PathSegment[];
  /** The policy accepts this regex whatever the check finds (`unsafeRegex: true`). */
  unsafe: boolean;
  /** The longest value it runs on. */
  maxLength: number;
}

type Check = (source: string, flags: string, params?: { timeout?: number | null; randomSeed?: number; signal?: AbortSignal }) => Promise<Diagnostics>;

let checker: Promise<Check> | undefined;

/**
 * recheck's asynchronous check runs in its native agent (a child process) or a worker thread, never on this thread:
 * a sidecar reloading a policy keeps answering while the new regexes are checked. Loaded only when there are regexes.
 */
function loadChecker(): Promise<Check> {
  checker ??= import('recheck').then((m) => (m.check ?? (m as unknown as { default: { check: Check } }).default.check) as Check);
  return checker;
}

let safeOnDisk: Set<string> | undefined;

/** Operands compared as values, not conditions: a `regex` key inside them is data. */
const VALUE_OPERANDS = new Set(['eq', 'ne', 'in', 'contains', 'startsWith', 'endsWith']);

/**
 * Every regex of a policy: in conditions at any depth (all/any/not, operator `not`, list quantifiers, parsed views
 * and whatever operator nests conditions next: any object with a string `regex`), and replace steps.
 */
export function regexSites(doc: PolicyDocument): RegexSite[] {
  const sites: RegexSite[] = [];
  const visit = (node: unknown, at: PathSegment[]): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, [...at, i]));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const ops = node as OperatorObject;
    if (typeof ops.regex === 'string') {
      sites.push({ source: ops.regex, flags: typeof ops.flags === 'string' ? ops.flags : '', at: [...at, 'regex'], unsafe: ops.unsafeRegex === true, maxLength: ops.maxLength ?? DEFAULT_REGEX_MAX_LENGTH });
    }
    for (const [key, value] of Object.entries(node)) if (!VALUE_OPERANDS.has(key)) visit(value, [...at, key]);
  };
  doc.rules.forEach((rule, index) => {
    visit(rule.when, ['rules', index, 'when']);
    rule.transform?.forEach((step, i) => {
      if ('replace' in step) sites.push({ source: step.pattern, flags: step.flags ?? '', at: ['rules', index, 'transform', i, 'pattern'], unsafe: step.unsafeRegex === true, maxLength: step.maxLength ?? DEFAULT_REGEX_MAX_LENGTH });
    });
  });
  return sites;
}

const OPT_IN_HINT =
  ' If you accept the risk, add `unsafeRegex: true` next to this regex (and a small maxLength): it then loads, and runs only on values up to maxLength characters.';

const EXPONENTIAL_HINT =
  'Nested or overlapping repetition such as (a+)+, (a|a)* or (\\w+\\s?)* gives the engine exponentially many ways to split one input. Rewrite it so that each character can be matched only one way (e.g. (a+)+ → a+), or bound the repetition ({1,64}).';
const POLYNOMIAL_HINT =
  'Adjacent repetitions that can match the same characters (e.g. \\s*#\\s*$ or .*a.*a) make matching time grow with a power of the input length. Make the neighbouring parts exclude each other ([^#]* instead of .*), anchor the pattern with ^, or bound the repetition ({0,64}).';

function describeVulnerable(site: RegexSite, d: Extract<Diagnostics, { status: 'vulnerable' }>, enforce: boolean): LintProblem {
  const complexity = d.complexity.type === 'exponential' ? 'exponential' : `polynomial (${d.complexity.summary.replace(/ \(fuzz\)$/, '')})`;
  const attack = d.attack?.pattern ? ` on input like ${d.attack.pattern.length > 120 ? `${d.attack.pattern.slice(0, 117)}…` : d.attack.pattern}` : '';
  const where = markHotspots(site.source, d.hotspot ?? []);
  return lintProblem(
    'error',
    'redos',
    site.at,
    `regex ${shortJson(site.source)} can take ${complexity} time${attack}${where}: an agent can stall every decision with one crafted value`,
    (d.complexity.type === 'exponential' ? EXPONENTIAL_HINT : POLYNOMIAL_HINT) + (enforce ? OPT_IN_HINT : ''),
  );
}

/** ` (backtracking in: ^(«a»+)+$)`: the regex with the parts recheck blames between « and ». */
function markHotspots(source: string, hotspots: Array<{ start: number; end: number; temperature: string }>): string {
  const heat = hotspots.filter((h) => h.temperature === 'heat').sort((a, b) => a.start - b.start);
  if (heat.length === 0 || source.length > 200) return '';
  let out = '';
  let from = 0;
  for (const h of heat) {
    if (h.start < from) continue;
    out += `${source.slice(from, h.start)}«${source.slice(h.start, h.end)}»`;
    from = h.end;
  }
  return ` (backtracking in ${out}${source.slice(from)})`;
}

function describeUnknown(site: RegexSite, d: Extract<Diagnostics, { status: 'unknown' }>, timeoutMs: number, enforce: boolean): LintProblem {
  const why =
    d.error.kind === 'timeout' || (d.error.kind === 'cancel' && enforce)
      ? `the check did not finish within ${timeoutMs} ms`
      : d.error.kind === 'cancel'
        ? 'the check was cancelled'
        : `the checker could not analyse it (${d.error.kind}: ${d.error.message})`;
  return lintProblem(
    enforce ? 'error' : 'warning',
    'redos-unknown',
    site.at,
    `regex ${shortJson(site.source)} may be open to catastrophic backtracking: ${why}`,
    'Simplify the regex (fewer nested or adjacent repetitions), or bound its repetitions ({1,64}).' + (enforce ? OPT_IN_HINT : ''),
  );
}

export interface CheckRegexesOptions {
  timeoutMs?: number;
  /**
   * For loading a policy to enforce it: a regex that could not be checked (timeout, checker failure) is an error
   * like a catastrophic one, since it must not reach a running engine unless the policy accepts it by name.
   */
  enforce?: boolean;
}

type Verdict = { d: Diagnostics } | { safe: true } | { error: unknown };

/**
 * Checks every regex of a policy (conditions and replace steps) for catastrophic backtracking with recheck:
 * `vulnerable` is an error, `unknown` (for example a timeout) a warning (an error with `enforce`). A finding of the
 * fuzzing checker counts only when its attack, pumped to the regex's maxLength, is slow in this engine too. Regexes
 * marked `unsafeRegex: true` are not checked. Safe verdicts are remembered in this process and in a cache file.
 */
export async function checkRegexes(doc: PolicyDocument, options: CheckRegexesOptions = {}): Promise<LintProblem[]> {
  const sites = regexSites(doc).filter((site) => !site.unsafe);
  if (sites.length === 0) return [];
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDOS_TIMEOUT_MS;
  const enforce = options.enforce === true;
  safeOnDisk ??= loadSafeKeys();
  // Enforcing, a verdict must not depend on the machine's load: recheck runs to its own (bounded) end, and only a
  // wall-clock guard far above any real check stops it.
  const budget = enforce ? null : timeoutMs;
  const verdicts = await Promise.all(sites.map((site) => verdict(site, budget)));
  const newlySafe = sites.filter((site, i) => 'safe' in verdicts[i] && !safeOnDisk!.has(diskKey(site))).map(diskKey);
  if (newlySafe.length > 0) {
    for (const key of newlySafe) safeOnDisk.add(key);
    saveSafeKeys(newlySafe);
  }
  const problems: LintProblem[] = [];
  sites.forEach((site, i) => {
    const v = verdicts[i];
    if ('error' in v) problems.push(unavailable(site, v.error, enforce));
    else if ('d' in v && v.d.status === 'vulnerable') problems.push(describeVulnerable(site, v.d, enforce));
    else if ('d' in v && v.d.status === 'unknown') problems.push(describeUnknown(site, v.d, enforce ? ENFORCE_GUARD_MS : timeoutMs, enforce));
  });
  return problems;
}

const verdicts = new Map<string, Verdict>();
/** Checks under way: a regex that occurs many times in a policy (one allow-list in several fields) is checked once. */
const running = new Map<string, Promise<Verdict>>();

/** How long an enforcing check may run before it counts as unknown (so the policy is refused). */
export const ENFORCE_GUARD_MS = 120_000;

function verdict(site: RegexSite, timeoutMs: number | null): Promise<Verdict> {
  const key = diskKey(site);
  let pending = running.get(key);
  if (!pending) {
    pending = checkOnce(site, timeoutMs, key).finally(() => running.delete(key));
    running.set(key, pending);
  }
  return pending;
}

async function checkOnce(site: RegexSite, timeoutMs: number | null, key: string): Promise<Verdict> {
  const known = verdicts.get(key);
  if (known) return known;
  if (safeOnDisk?.has(key)) return { safe: true };
  let check: Check;
  try {
    check = await loadChecker();
  } catch (error) {
    checker = undefined;
    return { error };
  }
  let d: Diagnostics;
  const guard = new AbortController();
  const timer = timeoutMs === null ? setTimeout(() => guard.abort(), ENFORCE_GUARD_MS) : undefined;
  timer?.unref();
  try {
    // A fixed seed keeps the fuzzing checker as deterministic as it can be.
    d = await check(site.source, site.flags, { timeout: timeoutMs, randomSeed: 0, ...(timer ? { signal: guard.signal } : {}) });
  } catch (error) {
    return { error };
  } finally {
    clearTimeout(timer);
  }
  let result: Verdict = d.status === 'safe' ? { safe: true } : { d };
  if (d.status === 'vulnerable' && d.complexity.isFuzz && d.attack) {
    const input = scaledAttack(d.attack, site.maxLength);
    if (await finishesWithin(site.source, site.flags, input, confirmBudgetMs(input.length))) result = { safe: true };
  }
  // A timeout depends on the machine's load, so only definite answers are kept.
  if (d.status !== 'unknown') verdicts.set(key, result);
  return result;
}

/** The verdict depends on the regex, its flags, recheck's version and (for a fuzzing finding) the longest input it may see. */
export function diskKey(site: Pick<RegexSite, 'source' | 'flags' | 'maxLength'>): string {
  return regexKey(site.source, `${site.flags}/${site.maxLength}`);
}

function unavailable(site: RegexSite, error: unknown, enforce: boolean): LintProblem {
  return lintProblem(
    enforce ? 'error' : 'warning',
    'redos-unchecked',
    site.at,
    `regexes were not checked for catastrophic backtracking: the checker (recheck) failed: ${error instanceof Error ? error.message : String(error)}`,
    'Reinstall agentguard so that its optional recheck backend is present, or set RECHECK_BACKEND=pure to use the JavaScript backend.',
  );
}
