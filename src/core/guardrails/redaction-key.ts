import { chmodSync, mkdirSync, readFileSync, writeFileSync, linkSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AgentGuardError } from '../errors.js';
import { KEYS_DIR } from '../audit/keys.js';
import { tempPathFor } from '../temp-path.js';

export const REDACTION_KEY_FILE = 'redaction.key';
export const REDACTION_KEY_ENV = 'AGENTGUARD_REDACTION_KEY';

function decode(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new AgentGuardError('REDACTION_KEY_INVALID', `${where} must hold a 32-byte key as 64 hex digits or base64 (it decodes to ${key.length} bytes)`, {
      actions: ['Create one with `openssl rand -hex 32`.'],
    });
  }
  return key;
}

/**
 * The key of `hash` and `encrypt` redaction: $AGENTGUARD_REDACTION_KEY when set, else `<dataDir>/keys/redaction.key`,
 * created (mode 0600) on first use. Encrypted tokens can be read back only with the same key, so keep it with the data.
 */
export function loadOrCreateRedactionKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env[REDACTION_KEY_ENV];
  if (fromEnv) return decode(fromEnv, `$${REDACTION_KEY_ENV}`);
  const dir = join(dataDir, KEYS_DIR);
  const file = join(dir, REDACTION_KEY_FILE);
  try {
    return decode(readFileSync(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = tempPathFor(file);
  writeFileSync(temp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temp, 0o600);
  try {
    linkSync(temp, file); // fails if another process created it first; then theirs is used
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temp);
  }
  return decode(readFileSync(file, 'utf8'), file);
}

/** A loader for the redaction key that reads or creates it only when a policy first needs it, then keeps it. */
export function lazyRedactionKey(dataDir: string): () => Uint8Array {
  let key: Uint8Array | undefined;
  return () => (key ??= loadOrCreateRedactionKey(dataDir));
}

/**
 * The redaction key for deciding without writing anything (`record: false`): $AGENTGUARD_REDACTION_KEY when set, else
 * `<dataDir>/keys/redaction.key` when it exists, read and never created; else a random key kept in memory for this
 * loader's life. With the folder's key, `hash` and `encrypt` give what the SDK and the sidecar on that folder give;
 * with the in-memory key the effect, reasons and shape are the same and only the token values differ.
 */
export function readOnlyRedactionKey(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): () => Uint8Array {
  let key: Uint8Array | undefined;
  return () => (key ??= existingRedactionKey(dataDir, env) ?? randomBytes(32));
}

function existingRedactionKey(dataDir: string | undefined, env: NodeJS.ProcessEnv): Buffer | undefined {
  const fromEnv = env[REDACTION_KEY_ENV];
  if (fromEnv) return decode(fromEnv, `$${REDACTION_KEY_ENV}`);
  if (dataDir === undefined) return undefined;
  const file = join(dataDir, KEYS_DIR, REDACTION_KEY_FILE);
  try {
    return decode(readFileSync(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
