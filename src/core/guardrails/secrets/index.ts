import type { DetectOptions, Finding, Guardrail, GuardrailFactory } from '../types.js';
import { foldForMatching, toOriginalSpans } from '../text/fold.js';
import { checkSecretsConfig, DEFAULT_ENTROPY_THRESHOLD, secretsConfigSchema, type SecretsConfig } from './config.js';
import { createGenericScanner, DEFAULT_KEYWORDS, GENERIC_TYPE, MAX_GENERIC_LENGTH } from './generic.js';
import { RECOGNIZERS } from './recognizers.js';

export type { SecretsConfig } from './config.js';

const NAME = 'secrets';

/** Every type the secrets guardrail can report. */
export const SECRET_TYPES: readonly string[] = [...new Set(RECOGNIZERS.map((r) => r.type)), GENERIC_TYPE];

interface Candidate extends Finding {
  priority: number;
}

/** Keeps the best of overlapping candidates: higher priority, then longer span, then earlier start. */
function resolveOverlaps(candidates: Candidate[]): Candidate[] {
  const ranked = [...candidates].sort((a, b) => b.priority - a.priority || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Candidate[] = [];
  for (const c of ranked) if (!kept.some((k) => k.start < c.end && c.start < k.end)) kept.push(c);
  return kept.sort((a, b) => a.start - b.start);
}

function createSecretsGuardrail(raw: SecretsConfig): Guardrail {
  const config = checkSecretsConfig(raw, SECRET_TYPES);
  const generic = createGenericScanner(config.keywords ?? DEFAULT_KEYWORDS, config.entropyThreshold ?? DEFAULT_ENTROPY_THRESHOLD);
  const allow = new Set(config.allowList ?? []);
  const configTypes = config.types ? new Set(config.types) : undefined;
  const recognizers = RECOGNIZERS.map((r) => ({ ...r, pattern: new RegExp(r.pattern.source, r.pattern.flags) }));

  function detect(original: string, options: DetectOptions = {}): Finding[] {
    // Matched on the folded text (full-width, look-alike and invisible characters: text/fold.ts), reported on the original.
    const folded = foldForMatching(original);
    const text = folded.text;
    const wanted = (type: string) => (!configTypes || configTypes.has(type)) && (!options.types || options.types.includes(type));
    const minScore = Math.max(config.minScore ?? 0, options.minScore ?? 0);
    const candidates: Candidate[] = [];
    for (const r of recognizers) {
      if (!wanted(r.type)) continue;
      r.pattern.lastIndex = 0;
      for (let m = r.pattern.exec(text); m !== null; m = r.pattern.exec(text)) {
        const [start, end] = m.indices!.groups?.v ?? m.indices![0];
        const score = r.validate(text.slice(start, end), text, start);
        if (score !== null) candidates.push({ guardrail: NAME, type: r.type, start, end, score, priority: r.priority });
        // A rejected match may hide a real one starting inside it (e.g. a keyword-anchored pattern).
        if (score === null && m[0].length > 1) r.pattern.lastIndex = m.index + 1;
      }
    }
    if (wanted(GENERIC_TYPE)) {
      for (const g of generic.scan(text)) candidates.push({ guardrail: NAME, type: GENERIC_TYPE, ...g, priority: 1 });
    }
    // Filtered before overlaps are resolved: an allow-listed or weak candidate must not hide an overlapping secret.
    const kept = resolveOverlaps(candidates.filter((c) => c.score >= minScore && !allow.has(text.slice(c.start, c.end))));
    return toOriginalSpans(folded, kept).map(({ guardrail, type, start, end, score }) => ({ guardrail, type, start, end, score }));
  }

  return {
    name: NAME,
    description: 'API keys, tokens, private keys and other credentials, by documented format and by high-entropy values after secret names.',
    types: SECRET_TYPES,
    resolvesOverlaps: true,
    maxSpanLength: Math.max(MAX_GENERIC_LENGTH, ...RECOGNIZERS.map((r) => r.maxLength)),
    maxSpanLengthOf: (types) =>
      Math.max(types.includes(GENERIC_TYPE) ? MAX_GENERIC_LENGTH : 0, ...RECOGNIZERS.filter((r) => types.includes(r.type)).map((r) => r.maxLength)),
    detect,
  };
}

export const secretsGuardrail: GuardrailFactory<SecretsConfig> = {
  name: NAME,
  description: 'Finds credentials: vendor key formats (OpenAI, Anthropic, AWS, GitHub, GitLab, Slack, Stripe, Google, Azure, ...), agentguard API tokens, private keys, JWTs and high-entropy values after secret names.',
  configSchema: secretsConfigSchema,
  create: createSecretsGuardrail,
};
