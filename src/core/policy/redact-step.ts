import { selectFindings } from '../guardrails/detections.js';
import { redact, RedactionVault, type RedactOptions } from '../guardrails/redact/index.js';
import { CompileProblem } from './conditions.js';
import { checkTypes, parseTextPaths } from './detect.js';
import type { EvalContext } from './eval-context.js';
import type { GuardrailSet } from './guardrail-set.js';
import { getPath, setPath } from './path.js';
import type { PathSegment } from './problem.js';
import { countedFindings, countedTypes, guardrailTexts, textPath } from './texts.js';
import type { CompiledStep } from './transforms.js';
import type { RedactMode } from './types.js';

function redactOptions(mode: RedactMode, ctx: EvalContext): RedactOptions {
  switch (mode) {
    case 'replace':
    case 'mask':
      return { mode };
    case 'hash':
    case 'encrypt': {
      const given = ctx.redaction.key;
      const key = typeof given === 'function' ? given() : given;
      if (!key) throw new Error(`"${mode}" redaction needs a key, and none is configured (set AGENTGUARD_REDACTION_KEY or let agentguard create one in its data folder)`);
      return { mode, key };
    }
    case 'vault':
      ctx.redaction.vault ??= new RedactionVault();
      return { mode, vault: ctx.redaction.vault };
  }
}

/**
 * Renames a key in place, keeping the order of keys. Two keys that would share a name cannot both be kept, and dropping
 * either would change what the action does, so that is an error (the transform fails and the action is denied). The
 * message names neither key: they may be the secrets being redacted.
 */
function renameKey(object: unknown, from: string, to: string): void {
  if (from === to) return;
  if (object === null || typeof object !== 'object' || Array.isArray(object) || !Object.prototype.hasOwnProperty.call(object, from)) {
    throw new Error('a key to redact is no longer where it was found');
  }
  if (Object.prototype.hasOwnProperty.call(object, to)) throw new Error('two keys of one object would have the same name once redacted');
  const target = object as Record<string, unknown>;
  const entries = Object.entries(target);
  for (const [k] of entries) delete target[k];
  for (const [k, v] of entries) Object.defineProperty(target, k === from ? to : k, { value: v, writable: true, enumerable: true, configurable: true });
}

/** `{ redact: path, guardrail, mode, types, minScore }`: rewrites what the guardrail finds in every string under path. */
export function compileRedactStep(
  step: { redact: string; guardrail: string; mode?: RedactMode; types?: string[]; minScore?: number },
  at: PathSegment[],
  guardrails: GuardrailSet | undefined,
): CompiledStep {
  if (!guardrails) throw new CompileProblem('redact is not available here', at);
  const name = step.guardrail;
  const guardrail = guardrails.resolve(name, [...at, 'guardrail']);
  const types = checkTypes(guardrail, name, step.types, [...at, 'types']);
  if (guardrail.maxSpanLength === Number.POSITIVE_INFINITY) {
    throw new CompileProblem(`guardrail "${name}" judges whole texts, so there is no span to redact`, [...at, 'guardrail'], 'Use it in a detect condition with effect deny, or redact with pii or secrets.');
  }
  const [segments] = parseTextPaths(step.redact, [...at, 'redact']);
  const mode = step.mode ?? 'replace';
  const minScore = step.minScore ?? 0;
  return {
    label: `redact ${name}${step.types ? ` ${step.types.join('|')}` : ''} in ${step.redact} (${mode})`,
    apply: (copy, ctx) => {
      if (!ctx) throw new Error('guardrails need a decision context');
      // Keys come after everything under them (collectTexts), so a key is renamed only once the paths through it are used.
      for (const at of guardrailTexts(guardrail, copy, segments)) {
        const hits = selectFindings(countedFindings(guardrail, at, ctx.detections.findings(name, at.text, countedTypes(guardrail, at, types), minScore)), types, minScore);
        if (hits.length === 0) continue;
        ctx.detections.report(name, hits, textPath(at));
        const redacted = redact(at.text, hits, redactOptions(mode, ctx)).text;
        if (at.key === undefined) setPath(copy as unknown as Record<string, unknown>, at.segments, redacted);
        else renameKey(getPath(copy, at.segments), at.text, redacted);
      }
    },
  };
}
