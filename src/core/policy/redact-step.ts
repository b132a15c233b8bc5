import { selectFindings } from '../guardrails/detections.js';
import { redact, RedactionVault, type RedactOptions } from '../guardrails/redact/index.js';
import { CompileProblem } from './conditions.js';
import { checkTypes, parseTextPaths } from './detect.js';
import type { EvalContext } from './eval-context.js';
import type { GuardrailSet } from './guardrail-set.js';
import { setPath } from './path.js';
import type { PathSegment } from './problem.js';
import { collectTexts } from './texts.js';
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
      for (const { segments: where, text } of collectTexts(copy, segments)) {
        const hits = selectFindings(ctx.detections.findings(name, text), types, minScore);
        if (hits.length === 0) continue;
        ctx.detections.report(name, hits, where.join('.'));
        setPath(copy as unknown as Record<string, unknown>, where, redact(text, hits, redactOptions(mode, ctx)).text);
      }
    },
  };
}
