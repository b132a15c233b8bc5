import { AgentGuardError } from '../../errors.js';

export interface SecretsConfig {
  /** Report only these types (all when absent). */
  types?: string[];
  /** Drop findings scoring below this, in [0, 1]. */
  minScore?: number;
  /** Bits per character a GENERIC_SECRET value must reach (short values are held to a lower bar). Default 3.5. */
  entropyThreshold?: number;
  /** Names that mark the value after them as a GENERIC_SECRET; replaces the default list. */
  keywords?: string[];
  /** Exact values never reported (test fixtures, published sample keys). */
  allowList?: string[];
}

export const DEFAULT_ENTROPY_THRESHOLD = 3.5;

export const secretsConfigSchema: Record<string, unknown> = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    types: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, description: 'Report only these types.' },
    minScore: { type: 'number', minimum: 0, maximum: 1, description: 'Drop findings scoring below this.' },
    entropyThreshold: {
      type: 'number',
      minimum: 1,
      maximum: 6,
      description: 'Shannon entropy (bits per character) a GENERIC_SECRET value must reach. Default 3.5.',
    },
    keywords: {
      type: 'array',
      items: { type: 'string', minLength: 2, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' },
      minItems: 1,
      description: 'Names that mark the value after them as a secret; replaces the default list.',
    },
    allowList: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'Exact values never reported.' },
  },
};

function bad(message: string, action: string): AgentGuardError {
  return new AgentGuardError('GUARDRAIL_CONFIG_INVALID', `secrets guardrail: ${message}`, { actions: [action] });
}

/** Checks a config the registry may not have validated (direct API use); throws instead of running half-configured. */
export function checkSecretsConfig(config: unknown, knownTypes: readonly string[]): SecretsConfig {
  if (config === undefined || config === null) return {};
  if (typeof config !== 'object' || Array.isArray(config)) throw bad('config must be an object', 'Pass an object such as { "minScore": 0.5 }.');
  const c = config as Record<string, unknown>;
  const allowed = new Set(['types', 'minScore', 'entropyThreshold', 'keywords', 'allowList']);
  for (const key of Object.keys(c)) {
    if (!allowed.has(key)) throw bad(`unknown option "${key}"`, `Use only: ${[...allowed].join(', ')}.`);
  }
  const strings = (key: string): string[] | undefined => {
    const v = c[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) throw bad(`"${key}" must be a list of non-empty strings`, `Fix "${key}".`);
    return v as string[];
  };
  const types = strings('types');
  const unknown = types?.filter((t) => !knownTypes.includes(t)) ?? [];
  if (unknown.length > 0) throw bad(`unknown type(s) ${unknown.join(', ')}`, `Use types from: ${knownTypes.join(', ')}.`);
  const keywords = strings('keywords');
  if (keywords?.length === 0) throw bad('"keywords" must not be empty', 'Remove "keywords" to use the default list.');
  if (keywords?.some((k) => !/^[A-Za-z0-9_.-]{2,64}$/.test(k))) throw bad('each keyword must be 2-64 letters, digits, "_", "-" or "."', 'Fix "keywords".');
  const number = (key: string, min: number, max: number): number | undefined => {
    const v = c[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw bad(`"${key}" must be a number from ${min} to ${max}`, `Fix "${key}".`);
    return v;
  };
  return {
    types,
    minScore: number('minScore', 0, 1),
    entropyThreshold: number('entropyThreshold', 1, 6),
    keywords,
    allowList: strings('allowList'),
  };
}
