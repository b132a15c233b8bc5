import type { Diagnostics } from 'recheck';
import type { PathSegment } from '../problem.js';
import type { PolicyDocument } from '../types.js';
import { shortJson } from './facts.js';
import { lintProblem, type LintProblem } from './lint-problem.js';
import { walkOperatorObjects } from './walk.js';

/** Default time recheck may spend on one regex before the result is reported as unknown. */
export const DEFAULT_REDOS_TIMEOUT_MS = 10_000;

interface RegexSite {
  source: string;
  flags: string;
  at: PathSegment[];
}

type CheckSync = (source: string, flags: string, params?: { timeout?: number | null; randomSeed?: number }) => Diagnostics;

let checker: Promise<CheckSync> | undefined;

/** recheck starts a native (or Java/JS) backend: load it only when a policy has regexes to check. */
function loadChecker(): Promise<CheckSync> {
  checker ??= import('recheck').then((m) => (m.checkSync ?? (m as unknown as { default: { checkSync: CheckSync } }).default.checkSync) as CheckSync);
  return checker;
}

const cache = new Map<string, Diagnostics>();

function regexSites(doc: PolicyDocument): RegexSite[] {
  const sites: RegexSite[] = [];
  doc.rules.forEach((rule, index) => {
    walkOperatorObjects(rule.when, ['rules', index, 'when'], ({ ops, at }) => {
      if (typeof ops.regex === 'string') sites.push({ source: ops.regex, flags: ops.flags ?? '', at: [...at, 'regex'] });
    });
    rule.transform?.forEach((step, i) => {
      if ('replace' in step) sites.push({ source: step.pattern, flags: step.flags ?? '', at: ['rules', index, 'transform', i, 'pattern'] });
    });
  });
  return sites;
}

const EXPONENTIAL_HINT =
  'Nested or overlapping repetition such as (a+)+, (a|a)* or (\\w+\\s?)* gives the engine exponentially many ways to split one input. Rewrite it so that each character can be matched only one way (e.g. (a+)+ → a+), or bound the repetition ({1,64}).';
const POLYNOMIAL_HINT =
  'Adjacent repetitions that can match the same characters (e.g. \\s*#\\s*$ or .*a.*a) make matching time grow with a power of the input length. Make the neighbouring parts exclude each other ([^#]* instead of .*), anchor the pattern with ^, or bound the repetition ({0,64}).';

function describeVulnerable(site: RegexSite, d: Extract<Diagnostics, { status: 'vulnerable' }>): LintProblem {
  const complexity = d.complexity.type === 'exponential' ? 'exponential' : `polynomial (${d.complexity.summary.replace(/ \(fuzz\)$/, '')})`;
  const attack = d.attack?.pattern ? ` on input like ${d.attack.pattern.length > 120 ? `${d.attack.pattern.slice(0, 117)}…` : d.attack.pattern}` : '';
  const where = markHotspots(site.source, d.hotspot ?? []);
  return lintProblem(
    'error',
    'redos',
    site.at,
    `regex ${shortJson(site.source)} can take ${complexity} time${attack}${where}: an agent can stall every decision with one crafted value`,
    d.complexity.type === 'exponential' ? EXPONENTIAL_HINT : POLYNOMIAL_HINT,
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

function describeUnknown(site: RegexSite, d: Extract<Diagnostics, { status: 'unknown' }>, timeoutMs: number): LintProblem {
  const why =
    d.error.kind === 'timeout'
      ? `the check did not finish within ${timeoutMs} ms`
      : d.error.kind === 'cancel'
        ? 'the check was cancelled'
        : `the checker could not analyse it (${d.error.kind}: ${d.error.message})`;
  return lintProblem(
    'warning',
    'redos-unknown',
    site.at,
    `regex ${shortJson(site.source)} may be open to catastrophic backtracking: ${why}`,
    'Simplify the regex (fewer nested or adjacent repetitions), or bound its repetitions ({1,64}).',
  );
}

/**
 * Checks every regex of a policy (conditions and replace steps) for catastrophic backtracking with recheck:
 * `vulnerable` is an error, `unknown` (for example a timeout) a warning.
 */
export async function checkRegexes(doc: PolicyDocument, options: { timeoutMs?: number } = {}): Promise<LintProblem[]> {
  const sites = regexSites(doc);
  if (sites.length === 0) return [];
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDOS_TIMEOUT_MS;
  let checkSync: CheckSync;
  try {
    checkSync = await loadChecker();
  } catch (error) {
    checker = undefined;
    return [unavailable(sites[0], error)];
  }
  const problems: LintProblem[] = [];
  for (const site of sites) {
    const key = `${timeoutMs}/${site.flags}/${site.source}`;
    let d = cache.get(key);
    if (!d) {
      try {
        // A fixed seed keeps the fuzzing checker deterministic, so the same policy always gets the same answer.
        d = checkSync(site.source, site.flags, { timeout: timeoutMs, randomSeed: 0 });
      } catch (error) {
        problems.push(unavailable(site, error));
        continue;
      }
      // A timeout depends on the machine's load, so only definite answers are kept.
      if (d.status !== 'unknown') cache.set(key, d);
    }
    if (d.status === 'vulnerable') problems.push(describeVulnerable(site, d));
    else if (d.status === 'unknown') problems.push(describeUnknown(site, d, timeoutMs));
  }
  return problems;
}

function unavailable(site: RegexSite, error: unknown): LintProblem {
  return lintProblem(
    'warning',
    'redos-unchecked',
    site.at,
    `regexes were not checked for catastrophic backtracking: the checker (recheck) failed: ${error instanceof Error ? error.message : String(error)}`,
    'Reinstall agentguard so that its optional recheck backend is present, or set RECHECK_BACKEND=pure to use the JavaScript backend.',
  );
}
