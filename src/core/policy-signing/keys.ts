import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf } from '../audit/keys.js';
import { AgentGuardError } from '../errors.js';

/**
 * Policy signing keys (Ed25519): the private key signs `policy push`/`policy rollback` on an operator's machine, the
 * public key is given to sidecars (`--trust-policy-key`). Files as for the audit key: PKCS#8 PEM private key with mode
 * 0600 in a 0700 folder, SPKI PEM public key. Messages name files and key ids only, never key material.
 */

export const POLICY_PRIVATE_KEY_FILE = 'policy-signing.key.pem';
export const POLICY_PUBLIC_KEY_FILE = 'policy-signing.pub.pem';

/** A key sidecars accept signatures from. */
export interface TrustedPolicyKey {
  /** `sha256:<hex>` of the DER (SPKI) public key. */
  keyId: string;
  publicKey: KeyObject;
}

/** The key `--sign-key` names. */
export interface PolicySigningKey {
  keyId: string;
  privateKey: KeyObject;
}

/** Creates a key pair in `dir` (made with mode 0700 when missing); refuses to replace either file. */
export function generatePolicyKeyPair(dir: string): { keyId: string; privateKeyFile: string; publicKeyFile: string } {
  const privateKeyFile = join(dir, POLICY_PRIVATE_KEY_FILE);
  const publicKeyFile = join(dir, POLICY_PUBLIC_KEY_FILE);
  for (const file of [privateKeyFile, publicKeyFile]) {
    if (existsSync(file)) {
      throw new AgentGuardError('POLICY_KEY_EXISTS', `${file} already exists; a policy signing key is never overwritten`, {
        actions: ['Choose another --out folder, or move the old key away first (sidecars that trust it must then be given the new public key).'],
      });
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // 'wx' fails if another process created the file meanwhile: a key is never replaced, even in a race.
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600, flag: 'wx' });
  chmodSync(privateKeyFile, 0o600);
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o644, flag: 'wx' });
  return { keyId: keyIdOf(publicKey), privateKeyFile, publicKeyFile };
}

/** Reads the private key of `--sign-key`: refused when other users can read it, or when it is not Ed25519. */
export function readPolicySigningKey(file: string): PolicySigningKey {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    throw unreadable(file, error);
  }
  // Windows has no POSIX modes; the check would refuse every key there.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new AgentGuardError('POLICY_KEY_PERMISSIONS', `${file} has mode 0${mode.toString(8)}, so other users can read the policy signing key; refusing to use it`, {
      actions: [`Run \`chmod 600 ${file}\`.`, 'If others may have read it, make a new key (`agentguard policy keygen --out <dir>`) and give sidecars the new public key instead of the old one.'],
    });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (error) {
    throw unreadable(file, error, 'not a PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw notEd25519(file, privateKey.asymmetricKeyType);
  return { keyId: keyIdOf(createPublicKey(privateKey)), privateKey };
}

/** Reads a public key of `--trust-policy-key` (SPKI PEM, Ed25519). */
export function readTrustedPolicyKey(file: string): TrustedPolicyKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(text);
  } catch (error) {
    throw unreadable(file, error, 'not a PEM public key');
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw notEd25519(file, publicKey.asymmetricKeyType);
  return { keyId: keyIdOf(publicKey), publicKey };
}

function notEd25519(file: string, type: string | undefined): AgentGuardError {
  return new AgentGuardError('POLICY_KEY_UNREADABLE', `${file} holds a ${type ?? 'non-Ed25519'} key; policy versions are signed with Ed25519`, {
    actions: ['Use a key made by `agentguard policy keygen --out <dir>`.'],
  });
}

// Only what and where: never the key text or the crypto library's message about it.
function unreadable(file: string, error: unknown, what?: string): AgentGuardError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = what ?? (code ? `cannot read it (${code})` : 'cannot read it');
  return new AgentGuardError('POLICY_KEY_UNREADABLE', `policy signing key ${file}: ${why}`, {
    actions: what ? ['Use the files written by `agentguard policy keygen --out <dir>` (private key for --sign-key, public key for --trust-policy-key).'] : ['Check that the file exists and that this user may read it.'],
    cause: error,
  });
}
