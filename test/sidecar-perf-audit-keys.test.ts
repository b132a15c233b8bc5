import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, parsePublicKeyPem } from '../src/core/audit/keys.js';

const pemOf = (type: 'ed25519' | 'x25519') => generateKeyPairSync(type as 'ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('parsePublicKeyPem (read at every checkpoint): parsed once per key text', () => {
  it('answers the same key for the same text, and it cannot be changed by a caller', () => {
    const pem = pemOf('ed25519');
    const first = parsePublicKeyPem(pem, 'test');
    const again = parsePublicKeyPem(pem, 'test');
    expect(again).toBe(first);
    expect(first.keyId).toBe(keyIdOf(first.publicKey));
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('tells different keys apart', () => {
    const a = parsePublicKeyPem(pemOf('ed25519'), 'a');
    const b = parsePublicKeyPem(pemOf('ed25519'), 'b');
    expect(a.keyId).not.toBe(b.keyId);
  });

  it('still refuses text that is not an Ed25519 public key, every time', () => {
    const x25519 = pemOf('x25519');
    for (let i = 0; i < 2; i++) {
      expect(() => parsePublicKeyPem('not a key', 'somewhere')).toThrow(/somewhere: not a PEM public key/);
      expect(() => parsePublicKeyPem(x25519, 'there')).toThrow(/there: is a x25519 key/);
    }
  });
});
