import { createHmac } from 'node:crypto';
import { AgentGuardError } from '../../errors.js';

/** Type names inside tokens: upper-case letters, digits and `_`, starting with a letter (`email` → `EMAIL`). */
export function tokenType(type: string): string {
  const t = type.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return /^[A-Z]/.test(t) ? t : `T_${t}`;
}

export const replaceToken = (type: string): string => `<${tokenType(type)}>`;

/** `****` plus the last min(4, ⌊n/3⌋) characters (code points, so a surrogate pair is never split). */
export function maskValue(value: string, revealAllowed: boolean): string {
  const chars = Array.from(value);
  const keep = revealAllowed ? Math.min(4, Math.floor(chars.length / 3)) : 0;
  return `****${chars.slice(chars.length - keep).join('')}`;
}

export const MIN_HASH_KEY_BYTES = 16;

export function hashKeyBytes(key: string | Uint8Array): Uint8Array {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (!(bytes instanceof Uint8Array) || bytes.length < MIN_HASH_KEY_BYTES) {
    throw new AgentGuardError('REDACT_KEY_INVALID', `Cannot redact in hash mode: the key must be at least ${MIN_HASH_KEY_BYTES} bytes.`, {
      actions: ['Pass a random secret of 16 bytes or more, e.g. crypto.randomBytes(32), and keep it out of logs.'],
    });
  }
  return bytes;
}

/** `<TYPE:first 12 hex of HMAC-SHA256(key, value)>`: equal values give equal tokens under one key. */
export function hashToken(type: string, value: string, key: Uint8Array): string {
  return `<${tokenType(type)}:${createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, 12)}>`;
}
