// The guardrails for direct use, without a policy: `detect(text)` and `redact(text)` from agentguard/sdk. The
// guardrail modules (and the models some of them load) are imported on first use, so importing the SDK stays cheap.
import { AgentGuardError } from '../core/errors.js';
import type { Finding, Guardrail } from '../core/guardrails/types.js';
import type { RedactionVault } from '../core/guardrails/redact/vault.js';
import { isPlainObject } from '../core/plain-object.js';

/** What `detect` looks for. */
export interface DetectTextOptions {
  /** Guardrails to run, by name (default: every local one: pii, secrets, injection, moderation). */
  guardrails?: readonly string[];
  /** Report only these types (e.g. `EMAIL_ADDRESS`, `AWS_ACCESS_KEY_ID`); guardrails that report none of them are not run. */
  types?: readonly string[];
  /** Drop findings scoring below this, in [0, 1] (default 0). */
  minScore?: number;
}

/** How `redact` rewrites what it found; the guardrails default to the span-finding ones (pii, secrets). */
export type RedactTextOptions = Omit<DetectTextOptions, 'minScore'> & { minScore?: number } & (
  | { mode?: 'replace' }
  | { mode: 'mask' }
  | { mode: 'hash'; key: string | Uint8Array }
  | { mode: 'encrypt'; key: Uint8Array }
  | { mode: 'vault'; vault: RedactionVault }
);

const LOCAL_GUARDRAILS = ['pii', 'secrets', 'injection', 'moderation'];
const SPAN_GUARDRAILS = ['pii', 'secrets'];

const created = new Map<string, Guardrail>();

async function guardrailsNamed(names: readonly string[]): Promise<Guardrail[]> {
  const { BUILTIN_GUARDRAILS } = await import('../core/guardrails/registry.js');
  return names.map((name) => {
    const known = created.get(name);
    if (known) return known;
    const factory = BUILTIN_GUARDRAILS.get(name);
    if (!factory) {
      throw new AgentGuardError('UNKNOWN_GUARDRAIL', `unknown guardrail ${JSON.stringify(name)}`, {
        actions: [`Choose from: ${[...BUILTIN_GUARDRAILS.keys()].join(', ')} (\`agentguard guardrails list\`).`],
      });
    }
    const guardrail = factory.create({});
    created.set(name, guardrail);
    return guardrail;
  });
}

function checkOptions(options: unknown, what: string): DetectTextOptions {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw invalid(`${what} options must be an object`);
  const { guardrails, types, minScore } = options as DetectTextOptions;
  const names = (value: unknown, field: string) => {
    if (value !== undefined && (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v === ''))) throw invalid(`${what}: ${field} must be a non-empty list of names`);
  };
  names(guardrails, 'guardrails');
  names(types, 'types');
  if (minScore !== undefined && !(typeof minScore === 'number' && minScore >= 0 && minScore <= 1)) throw invalid(`${what}: minScore must be a number from 0 to 1`);
  return options as DetectTextOptions;
}

function invalid(message: string): AgentGuardError {
  return new AgentGuardError('GUARD_OPTIONS_INVALID', message, { actions: ['e.g. detect(text, { guardrails: ["pii"], types: ["EMAIL_ADDRESS"] }) or redact(text, { mode: "mask" })'] });
}

async function findings(text: string, options: DetectTextOptions, defaults: readonly string[], what: string): Promise<{ found: Finding[]; wholeText: Set<string> }> {
  if (typeof text !== 'string') throw invalid(`${what} needs the text as a string`);
  const guardrails = await guardrailsNamed(options.guardrails ?? defaults);
  const types = options.types;
  if (types) {
    const known = new Set(guardrails.flatMap((g) => g.types));
    const unknown = types.filter((t) => !known.has(t));
    if (unknown.length > 0) {
      throw new AgentGuardError('GUARDRAIL_TYPE_UNKNOWN', `${what}: no guardrail of ${guardrails.map((g) => g.name).join(', ')} reports ${unknown.join(', ')}`, {
        actions: ['Run `agentguard guardrails list` to see the types of each guardrail, or name the guardrail that reports it in `guardrails`.'],
      });
    }
  }
  const runs = guardrails.flatMap((g) => {
    const own = types?.filter((t) => g.types.includes(t));
    if (own && own.length === 0) return [];
    return [g.detect(text, { ...(own ? { types: own } : {}), ...(options.minScore !== undefined ? { minScore: options.minScore } : {}) })];
  });
  const found = (await Promise.all(runs)).flat().sort((a, b) => a.start - b.start || a.end - b.end || a.guardrail.localeCompare(b.guardrail));
  const wholeText = new Set(guardrails.filter((g) => g.maxSpanLength === Number.POSITIVE_INFINITY).map((g) => g.name));
  return { found, wholeText };
}

/**
 * Runs agentguard's guardrails on a text, without a policy: the same detectors policies use (PII with validators and
 * context words, secrets, prompt injection, moderation). Findings are ordered by position; `start`/`end` are UTF-16
 * offsets. A guardrail that fails makes the call reject: a check that could not run never looks clean.
 *
 * @example
 * const found = await detect('Mail ana@example.com', { guardrails: ['pii'], types: ['EMAIL_ADDRESS'] });
 * // [{ guardrail: 'pii', type: 'EMAIL_ADDRESS', start: 5, end: 20, score: … }]
 */
export async function detect(text: string, options?: DetectTextOptions): Promise<Finding[]> {
  return (await findings(text, checkOptions(options, 'detect'), LOCAL_GUARDRAILS, 'detect')).found;
}

/**
 * Replaces what the guardrails find in a text (default: pii and secrets) and returns the new text. Modes as in
 * policies: `replace` (default) `<EMAIL_ADDRESS>`, `mask` `****.com`, `hash` (with `key`), `encrypt` (with a
 * 32-byte `key`; decryptTokens reverses it), `vault` (with a RedactionVault; `vault.restore(text)` reverses it).
 * Findings about the whole text (injection, moderation) change nothing.
 *
 * @example
 * await redact('Card 4111 1111 1111 1111, mail ana@example.com', { mode: 'mask' });
 */
export async function redact(text: string, options?: RedactTextOptions): Promise<string> {
  const checked = checkOptions(options, 'redact');
  const { found, wholeText } = await findings(text, checked, SPAN_GUARDRAILS, 'redact');
  const spans = found.filter((f) => !(wholeText.has(f.guardrail) && f.start === 0 && f.end === text.length));
  const { redact: rewrite } = await import('../core/guardrails/redact/index.js');
  const { guardrails: _g, types: _t, minScore: _m, ...mode } = (options ?? {}) as RedactTextOptions;
  return rewrite(text, spans, ('mode' in mode && mode.mode !== undefined ? mode : { ...mode, mode: 'replace' }) as Parameters<typeof rewrite>[2]).text;
}
