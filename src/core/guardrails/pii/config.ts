import { AgentGuardError } from '../../errors.js';

export const PII_TYPES = [
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'CREDIT_CARD',
  'US_SSN',
  'IBAN_CODE',
  'IP_ADDRESS',
  'URL',
  'US_BANK_NUMBER',
  'ABA_ROUTING_NUMBER',
  'US_PASSPORT',
  'US_DRIVER_LICENSE',
  'CRYPTO',
  'DATE_TIME',
  'PERSON',
  'LOCATION',
] as const;
export type PiiType = (typeof PII_TYPES)[number];

export interface PiiConfig {
  /** Types to report (all when absent). */
  types?: PiiType[];
  /** Drop findings scoring below this; default 0.5. A per-call `minScore` replaces it. */
  minScore?: number;
  /** Extra context words per type; a word near a match raises its score. */
  contextWords?: Partial<Record<PiiType, string[]>>;
  /** ISO 3166 regions whose national phone formats are validated; default ['US']. `+` numbers always are. */
  phoneRegions?: string[];
  /** Values never reported (compared case-insensitively, surrounding spaces ignored). */
  allowList?: string[];
}

export const DEFAULT_MIN_SCORE = 0.5;

export const piiConfigSchema: Record<string, unknown> = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'pii guardrail config',
  type: 'object',
  additionalProperties: false,
  properties: {
    types: { type: 'array', items: { enum: [...PII_TYPES] }, uniqueItems: true, description: 'Types to report (all when absent).' },
    minScore: { type: 'number', minimum: 0, maximum: 1, default: DEFAULT_MIN_SCORE, description: 'Drop findings scoring below this.' },
    contextWords: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(PII_TYPES.map((t) => [t, { type: 'array', items: { type: 'string', minLength: 1 } }])),
      description: 'Extra words per type that raise the score of a nearby match.',
    },
    phoneRegions: {
      type: 'array',
      items: { type: 'string', pattern: '^[A-Z]{2}$' },
      default: ['US'],
      description: 'Regions whose national phone formats are validated; international +numbers always are.',
    },
    allowList: { type: 'array', items: { type: 'string' }, description: 'Values never reported.' },
  },
};

function invalid(message: string, action: string): AgentGuardError {
  return new AgentGuardError('GUARDRAIL_CONFIG_INVALID', `Invalid pii guardrail config: ${message}`, { actions: [action] });
}

const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/** Checks a config the registry may not have validated (direct `create` calls); never echoes values. */
export function checkPiiConfig(config: unknown, supportedRegion: (code: string) => boolean): Required<Omit<PiiConfig, 'contextWords'>> & { contextWords: Partial<Record<PiiType, string[]>> } {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw invalid('expected an object', 'Pass an object such as { types: ["EMAIL_ADDRESS"] }.');
  const c = config as Record<string, unknown>;
  const allowed = new Set(Object.keys(piiConfigSchema.properties as object));
  for (const key of Object.keys(c)) if (!allowed.has(key)) throw invalid(`unknown key "${key}"`, `Use only: ${[...allowed].join(', ')}.`);
  const known = new Set<string>(PII_TYPES);
  if (c.types !== undefined && (!isStringArray(c.types) || c.types.some((t) => !known.has(t)))) {
    throw invalid('"types" must list known types', `Known types: ${PII_TYPES.join(', ')}.`);
  }
  if (c.minScore !== undefined && (typeof c.minScore !== 'number' || !(c.minScore >= 0 && c.minScore <= 1))) {
    throw invalid('"minScore" must be a number from 0 to 1', 'Set minScore between 0 and 1, e.g. 0.5.');
  }
  if (c.contextWords !== undefined) {
    if (c.contextWords === null || typeof c.contextWords !== 'object' || Array.isArray(c.contextWords)) throw invalid('"contextWords" must be an object', 'Map a type to a list of words.');
    for (const [type, words] of Object.entries(c.contextWords)) {
      if (!known.has(type) || !isStringArray(words)) throw invalid(`"contextWords.${type}" must be a known type mapped to a list of words`, `Known types: ${PII_TYPES.join(', ')}.`);
    }
  }
  if (c.phoneRegions !== undefined && (!isStringArray(c.phoneRegions) || c.phoneRegions.some((r) => !/^[A-Z]{2}$/.test(r) || !supportedRegion(r)))) {
    throw invalid('"phoneRegions" must list supported two-letter region codes', 'Use ISO 3166 alpha-2 codes such as "US", "GB", "DE".');
  }
  if (c.allowList !== undefined && !isStringArray(c.allowList)) throw invalid('"allowList" must be a list of strings', 'List the exact values never to report.');
  return {
    types: (c.types as PiiType[] | undefined) ?? [...PII_TYPES],
    minScore: (c.minScore as number | undefined) ?? DEFAULT_MIN_SCORE,
    contextWords: (c.contextWords as Partial<Record<PiiType, string[]>> | undefined) ?? {},
    phoneRegions: (c.phoneRegions as string[] | undefined) ?? ['US'],
    allowList: (c.allowList as string[] | undefined) ?? [],
  };
}
