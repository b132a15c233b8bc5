import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { AgentGuardError } from '../errors.js';
import { tempPathFor } from '../temp-path.js';

/**
 * The Ed25519 key pair that signs audit checkpoints. It lives in `<dataDir>/keys/` (folder mode 0700): the private
 * key in PKCS#8 PEM with mode 0600, the public key in SPKI PEM next to it. Created on first use; a private key file
 * that others can read is refused rather than used.
 */

/** Folder of the key files, inside the data folder. */
export const KEYS_DIR = 'keys';
/** The private key (PKCS#8 PEM, mode 0600). */
export const PRIVATE_KEY_FILE = 'audit-ed25519.key.pem';
/** The public key (SPKI PEM), what verifiers need. */
export const PUBLIC_KEY_FILE = 'audit-ed25519.pub.pem';

/** A public key with its id, enough to verify checkpoints. */
export interface PublicKeyInfo {
  /** `sha256:<hex>` of the DER (SPKI) public key. */
  keyId: string;
  publicKey: KeyObject;
  publicKeyPem: string;
}

/** The full key pair, needed to sign checkpoints. */
export interface SigningKeys extends PublicKeyInfo {
  privateKey: KeyObject;
  /** The keys folder they were read from, where the signer also keeps its latest checkpoint (see witness.ts). */
  dir?: string;
}

/** Paths of the key files under a data folder. */
export function keyPaths(dataDir: string): { dir: string; privateKey: string; publicKey: string } {
  const dir = join(dataDir, KEYS_DIR);
  return { dir, privateKey: join(dir, PRIVATE_KEY_FILE), publicKey: join(dir, PUBLIC_KEY_FILE) };
}

/** `sha256:<hex>` of a public key's DER (SPKI) bytes: the `keyId` written into checkpoints. */
export function keyIdOf(publicKey: KeyObject): string {
  return `sha256:${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}

/**
 * Public keys already parsed, by their PEM text: a recorder reads its witness (which names the key) at every
 * checkpoint, and parsing the key and hashing its DER cost more than the rest of the checkpoint. Only valid keys are
 * kept; public keys are no secret.
 */
const parsedPublicKeys = new LRUCache<string, PublicKeyInfo>({ max: 64 });

/** Reads an Ed25519 public key from PEM text; throws AgentGuardError (exit 2) naming `where` when it is not one. */
export function parsePublicKeyPem(pem: string, where: string): PublicKeyInfo {
  const known = parsedPublicKeys.get(pem);
  if (known) return known;
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (error) {
    throw new AgentGuardError('AUDIT_KEY_UNREADABLE', `${where}: not a PEM public key (${(error as Error).message})`, {
      actions: ['Export the key again with `agentguard audit public-key --out <file>`.'],
      cause: error,
    });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new AgentGuardError('AUDIT_KEY_UNREADABLE', `${where}: is a ${publicKey.asymmetricKeyType} key; audit checkpoints use Ed25519`, {
      actions: ['Use the key printed by `agentguard audit public-key`.'],
    });
  }
  const info = Object.freeze(publicInfo(publicKey));
  parsedPublicKeys.set(pem, info);
  return info;
}

/**
 * The signing keys of a data folder, created on first use (folder 0700, private key 0600). Safe when several
 * processes start at once: the first to link its key file wins and the others read that one.
 *
 * @example
 * const keys = loadOrCreateSigningKeys('.agentguard');
 * console.log(keys.keyId, keys.publicKeyPem);
 */
export function loadOrCreateSigningKeys(dataDir: string): SigningKeys {
  const paths = keyPaths(dataDir);
  if (!existsSync(paths.privateKey)) createKeyPair(paths);
  return loadSigningKeys(dataDir);
}

/** The signing keys of a data folder; throws AgentGuardError (exit 2) when there are none or they cannot be used. */
export function loadSigningKeys(dataDir: string): SigningKeys {
  const paths = keyPaths(dataDir);
  const privateKey = readPrivateKey(paths.privateKey);
  const publicKey = createPublicKey(privateKey);
  const info = publicInfo(publicKey);
  // The public file is a convenience copy for verifiers; restore it when it is missing, and never trust it over the
  // private key it belongs to.
  if (!existsSync(paths.publicKey)) writeFileSync(paths.publicKey, info.publicKeyPem, { mode: 0o644 });
  return { ...info, privateKey, dir: paths.dir };
}

/**
 * The public key of a data folder, without creating anything: read from the public key file, or derived from the
 * private key when only that exists. Null when the folder has no keys yet. Verifiers need only the public file, so
 * they can run as a user who cannot read the private key. (A replaced public file does not hide anything: the
 * checkpoints then fail to verify.)
 */
export function loadPublicKey(dataDir: string): PublicKeyInfo | null {
  const paths = keyPaths(dataDir);
  if (existsSync(paths.publicKey)) {
    let pem: string;
    try {
      pem = readFileSync(paths.publicKey, 'utf8');
    } catch (error) {
      throw unreadable(paths.publicKey, error);
    }
    return parsePublicKeyPem(pem, paths.publicKey);
  }
  if (existsSync(paths.privateKey)) return publicInfo(createPublicKey(readPrivateKey(paths.privateKey)));
  return null;
}

function publicInfo(publicKey: KeyObject): PublicKeyInfo {
  return { keyId: keyIdOf(publicKey), publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function readPrivateKey(file: string): KeyObject {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AgentGuardError('AUDIT_KEY_NOT_FOUND', `no audit signing key at ${file}`, {
        actions: ['Run `agentguard audit checkpoint --out <file>` or start recording decisions: the key is created on first use.'],
        cause: error,
      });
    }
    throw unreadable(file, error);
  }
  // Windows has no POSIX modes; the check would refuse every key there.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new AgentGuardError('AUDIT_KEY_PERMISSIONS', `${file} has mode 0${mode.toString(8)}, so other users can read the audit signing key; refusing to use it`, {
      actions: [`Run \`chmod 600 ${file}\`.`, 'If other users may already have read it, delete the keys folder to create a new key, and export the new public key to your verifiers.'],
    });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (error) {
    throw unreadable(file, error, 'not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AgentGuardError('AUDIT_KEY_UNREADABLE', `${file} holds a ${key.asymmetricKeyType} key; audit checkpoints are signed with Ed25519`, {
      actions: ['Move the file away; agentguard creates a new Ed25519 key on first use.'],
    });
  }
  return key;
}

function createKeyPair(paths: { dir: string; privateKey: string; publicKey: string }): void {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // Write a private temp file, then hard-link it into place: the link fails if another process got there first, and
  // readers never see a half-written key.
  const temp = tempPathFor(paths.privateKey);
  writeFileSync(temp, pem, { mode: 0o600, flag: 'wx' });
  chmodSync(temp, 0o600); // in case the umask narrowed nothing but the platform widened it
  try {
    linkSync(temp, paths.privateKey);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unreadable(paths.privateKey, error);
  } finally {
    unlinkSync(temp);
  }
}

// Never includes the key material or the crypto library's message about it, only what and where.
function unreadable(file: string, error: unknown, what?: string): AgentGuardError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = what ?? (code ? `cannot read it (${code})` : 'cannot read it');
  return new AgentGuardError('AUDIT_KEY_UNREADABLE', `audit key ${file}: ${why}`, {
    actions: what ? ['Restore the file from a backup, or move it away to create a new key (verifiers then need the new public key).'] : ['Check that the file exists and that this user may read it.'],
    cause: error,
  });
}
