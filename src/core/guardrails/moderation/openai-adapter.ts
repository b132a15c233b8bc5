import { AgentGuardError } from '../../errors.js';
import type { DetectOptions, Finding, Guardrail, GuardrailFactory } from '../types.js';

export interface OpenAiModerationConfig {
  /** The key itself. Prefer `apiKeyEnv` so the key stays out of policy files. */
  apiKey?: string;
  /** Environment variable holding the key (default `OPENAI_API_KEY`). */
  apiKeyEnv?: string;
  /** Default `https://api.openai.com/v1`. */
  baseURL?: string;
  /** Default `omni-moderation-latest`. */
  model?: string;
  /** Default 10 000. */
  timeoutMs?: number;
  /** Per category score at or above which a finding is reported (default 0.5). */
  thresholds?: Record<string, number>;
}

/** Categories the omni moderation model scores; others the service returns are reported too. */
export const OPENAI_MODERATION_TYPES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;

const NAME = 'openai-moderation';
const DEFAULT_THRESHOLD = 0.5;

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    apiKey: { type: 'string', minLength: 1 },
    apiKeyEnv: { type: 'string', minLength: 1 },
    baseURL: { type: 'string', pattern: '^https?://' },
    model: { type: 'string', minLength: 1 },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 600000 },
    thresholds: { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1 } },
  },
} as const;

function unavailable(message: string, cause?: unknown): AgentGuardError {
  return new AgentGuardError('GUARDRAIL_UNAVAILABLE', `${NAME}: ${message}`, {
    actions: [
      'Check the network, the baseURL and the API key of the openai-moderation guardrail.',
      'The action was not allowed: a guardrail that cannot run fails closed.',
    ],
    exitCode: 1,
    cause,
  });
}

function resolveKey(config: OpenAiModerationConfig): string {
  if (config.apiKey !== undefined && config.apiKey !== '') return config.apiKey;
  const variable = config.apiKeyEnv ?? 'OPENAI_API_KEY';
  const key = process.env[variable];
  if (key === undefined || key === '') {
    throw new AgentGuardError('GUARDRAIL_UNAVAILABLE', `${NAME}: no API key (environment variable ${variable} is not set)`, {
      actions: [`Set ${variable}, or name another variable with \`apiKeyEnv\`.`],
    });
  }
  return key;
}

/** Pulls `results[0].category_scores` out of a response body, or says why it cannot. */
function parseScores(body: string): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw unavailable('the service answered with a body that is not JSON');
  }
  const results = (parsed as { results?: unknown } | null)?.results;
  const first = Array.isArray(results) ? (results[0] as { category_scores?: unknown } | undefined) : undefined;
  const scores = first?.category_scores;
  if (scores === null || typeof scores !== 'object' || Array.isArray(scores)) {
    throw unavailable('the response has no results[0].category_scores object');
  }
  const out: Record<string, number> = {};
  for (const [category, score] of Object.entries(scores)) {
    if (typeof score !== 'number' || !Number.isFinite(score)) throw unavailable(`the score for "${category}" is not a number`);
    out[category] = score;
  }
  return out;
}

class OpenAiModeration implements Guardrail {
  readonly name = NAME;
  readonly description = "OpenAI's moderation API (sends the text to the provider)";
  readonly types = OPENAI_MODERATION_TYPES;
  readonly maxSpanLength = Number.POSITIVE_INFINITY;
  readonly async = true;
  readonly #key: string;
  readonly #url: string;
  readonly #model: string;
  readonly #timeoutMs: number;
  readonly #thresholds: Record<string, number>;

  constructor(config: OpenAiModerationConfig) {
    this.#key = resolveKey(config);
    this.#url = `${(config.baseURL ?? 'https://api.openai.com/v1').replace(/\/+$/, '')}/moderations`;
    this.#model = config.model ?? 'omni-moderation-latest';
    this.#timeoutMs = config.timeoutMs ?? 10_000;
    this.#thresholds = config.thresholds ?? {};
  }

  async detect(text: string, options: DetectOptions = {}): Promise<Finding[]> {
    let response: Response;
    let body: string;
    try {
      response = await fetch(this.#url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: this.#model, input: text }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      body = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw unavailable(timedOut ? `no answer within ${this.#timeoutMs} ms` : 'the request failed (network error)', error);
    }
    if (response.status === 401 || response.status === 403) throw unavailable(`the service rejected the API key (HTTP ${response.status})`);
    if (!response.ok) throw unavailable(`the service answered HTTP ${response.status}`);

    const scores = parseScores(body);
    const minScore = options.minScore ?? 0;
    const findings: Finding[] = [];
    for (const [type, score] of Object.entries(scores)) {
      if (options.types !== undefined && !options.types.includes(type)) continue;
      if (score < (this.#thresholds[type] ?? DEFAULT_THRESHOLD) || score < minScore) continue;
      findings.push({ guardrail: NAME, type, start: 0, end: text.length, score });
    }
    return findings;
  }
}

/**
 * Adapter for a provider's moderation endpoint (POST {baseURL}/moderations). Only used when a
 * policy names it: it sends the inspected text to a third party. Any failure throws
 * GUARDRAIL_UNAVAILABLE; messages never include the key or the text.
 */
export const openAiModerationGuardrail: GuardrailFactory<OpenAiModerationConfig> = {
  name: NAME,
  description: "Sends text to OpenAI's moderation API (or a compatible baseURL); opt-in only",
  configSchema,
  create: (config) => new OpenAiModeration(config ?? {}),
};
