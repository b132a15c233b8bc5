import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AgentGuardError } from '../../errors.js';
import { tokenType } from './render.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** `<enc:TYPE:base64url(iv | ciphertext | tag)>`; the type is authenticated as associated data. */
export const ENC_TOKEN = /<enc:([A-Z][A-Z0-9_]*):([A-Za-z0-9_-]+)>/g;

export function encryptionKey(key: unknown): Buffer {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new AgentGuardError('REDACT_KEY_INVALID', 'Cannot use encrypt mode: the key must be exactly 32 bytes (AES-256).', {
      actions: ['Pass a 32-byte key, e.g. crypto.randomBytes(32), stored where the decrypting side can read it.'],
    });
  }
  return Buffer.from(key);
}

export function encryptToken(type: string, value: string, key: Buffer): string {
  const t = tokenType(type);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(t, 'utf8'));
  const body = Buffer.concat([iv, cipher.update(encodePlain(value)), cipher.final(), cipher.getAuthTag()]);
  return `<enc:${t}:${body.toString('base64url')}>`;
}

// A span may cut a surrogate pair in two; UTF-8 would turn the lone half into U+FFFD, so such values travel as
// UTF-16LE, which keeps every code unit. The first plaintext byte says which.
const UTF8 = 1;
const UTF16 = 2;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function encodePlain(value: string): Buffer {
  return !LONE_SURROGATE.test(value)
    ? Buffer.concat([Buffer.of(UTF8), Buffer.from(value, 'utf8')])
    : Buffer.concat([Buffer.of(UTF16), Buffer.from(value, 'utf16le')]);
}

function decodePlain(plain: Buffer): string {
  if (plain[0] === UTF8) return plain.subarray(1).toString('utf8');
  if (plain[0] === UTF16 && plain.length % 2 === 1) return plain.subarray(1).toString('utf16le');
  throw new Error('unknown plaintext encoding');
}

function tampered(index: number): AgentGuardError {
  return new AgentGuardError('REDACT_TOKEN_INVALID', `Cannot decrypt the encryption token at offset ${index}: it was altered, truncated or made with another key.`, {
    actions: ['Decrypt with the key used to redact, and pass the text exactly as redaction produced it.'],
  });
}

/** Replaces every `<enc:…>` token by its plaintext; a token that does not authenticate throws. Pure. */
export function decryptTokens(text: string, key: Uint8Array): string {
  const k = encryptionKey(key);
  return text.replace(ENC_TOKEN, (_token, type: string, data: string, offset: number) => {
    const raw = Buffer.from(data, 'base64url');
    // base64url decoding ignores stray characters; insist the token re-encodes to itself.
    if (raw.length < IV_BYTES + TAG_BYTES || raw.toString('base64url') !== data) throw tampered(offset);
    try {
      const decipher = createDecipheriv('aes-256-gcm', k, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(type, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return decodePlain(Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]));
    } catch {
      throw tampered(offset);
    }
  });
}
