import { sign, verify } from 'node:crypto';
import type { PolicySigningKey, TrustedPolicyKey } from './keys.js';
import { signedPolicyText, type SignedPolicyFields } from './signed-fields.js';

/** A version's signature as stored: the signing key's id and the Ed25519 signature in base64. */
export interface PolicySignature {
  keyId: string;
  value: string;
}

/** Signs the fields of a version about to be pushed or rolled back. */
export function signPolicyVersion(fields: SignedPolicyFields, key: PolicySigningKey): PolicySignature {
  return { keyId: key.keyId, value: sign(null, signedPolicyText(fields), key.privateKey).toString('base64') };
}

/** Why a stored version's signature is not accepted, or null when one of the trusted keys made it over these fields. */
export type SignatureProblem = 'unsigned' | 'untrusted-key' | 'bad-signature';

export function checkPolicySignature(fields: SignedPolicyFields, signature: PolicySignature | null, trusted: readonly TrustedPolicyKey[]): SignatureProblem | null {
  if (signature === null) return 'unsigned';
  const key = trusted.find((k) => k.keyId === signature.keyId);
  if (!key) return 'untrusted-key';
  const bytes = decodeBase64(signature.value);
  // Ed25519 signatures are 64 bytes; anything else (or text that is not base64) cannot be one.
  if (bytes === null || bytes.length !== 64) return 'bad-signature';
  try {
    return verify(null, signedPolicyText(fields), key.publicKey, bytes) ? null : 'bad-signature';
  } catch {
    return 'bad-signature';
  }
}

// Buffer.from(…, 'base64') skips characters it does not know; a changed signature must not decode to the same bytes.
function decodeBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}
