import { AgentGuardError } from '../../errors.js';
import { ENC_TOKEN, encryptionKey, encryptToken } from './encrypt.js';
import { mergeSpans } from './merge.js';
import { hashKeyBytes, hashToken, maskValue, replaceToken } from './render.js';
import type { RedactionResult, RedactOptions, RedactSpan, Replacement } from './types.js';
import { RedactionVault } from './vault.js';

export { decryptTokens } from './encrypt.js';
export { mergeSpans, type MergedSpan } from './merge.js';
export { RedactionVault } from './vault.js';
export { REDACT_MODES, type RedactionResult, type RedactMode, type RedactOptions, type RedactSpan, type Replacement } from './types.js';

/**
 * Replaces the spans of `findings` in `text` as `options.mode` says and lists what was replaced. Overlapping
 * findings (from several guardrails) are merged first. Never mutates its inputs; only `vault` mode has an effect,
 * on the vault passed in.
 */
export function redact(text: string, findings: readonly RedactSpan[], options: RedactOptions): RedactionResult {
  const spans = mergeSpans(findings, text.length);
  const render = renderer(text, options);
  const replacements: Replacement[] = [];
  let out = '';
  let cursor = 0;
  for (const span of spans) {
    const replacement = render(span.type, text.slice(span.start, span.end), span.parts);
    out += text.slice(cursor, span.start) + replacement;
    cursor = span.end;
    replacements.push({ start: span.start, end: span.end, type: span.type, replacement });
  }
  return { text: out + text.slice(cursor), replacements };
}

type Render = (type: string, value: string, parts: number) => string;

function renderer(text: string, options: RedactOptions): Render {
  switch (options?.mode) {
    case 'replace':
      return (type) => replaceToken(type);
    case 'mask':
      // Revealing the tail of a merged region could reveal the whole of a short finding inside it.
      return (_type, value, parts) => maskValue(value, parts === 1);
    case 'hash': {
      const key = hashKeyBytes(options.key);
      return (type, value) => hashToken(type, value, key);
    }
    case 'encrypt': {
      const key = encryptionKey(options.key);
      // decryptTokens would try to open a token-shaped string the user wrote, and fail.
      ENC_TOKEN.lastIndex = 0;
      if (ENC_TOKEN.test(text)) {
        throw new AgentGuardError('REDACT_TOKEN_COLLISION', 'Cannot redact in encrypt mode: the text already contains an <enc:…> token.', {
          actions: ['Decrypt the earlier tokens first, or use vault mode for text that is redacted more than once.'],
        });
      }
      return (type, value) => encryptToken(type, value, key);
    }
    case 'vault': {
      const vault = options.vault;
      if (!(vault instanceof RedactionVault)) throw badOptions('vault mode needs a RedactionVault in `vault`');
      return (type, value) => vault.placeholderFor(type, value, text);
    }
    default:
      throw badOptions(`unknown mode ${JSON.stringify((options as { mode?: unknown } | undefined)?.mode)}`);
  }
}

function badOptions(message: string): AgentGuardError {
  return new AgentGuardError('REDACT_OPTIONS_INVALID', `Cannot redact: ${message}.`, {
    actions: ['Use mode replace, mask, hash (with key), encrypt (with a 32-byte key) or vault (with a RedactionVault).'],
  });
}
