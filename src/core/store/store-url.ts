import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { AgentGuardError } from '../errors.js';

/**
 * Which store a process uses. SQLite in the data folder is the embedded default; a PostgreSQL URL selects the shared
 * store of a fleet. Precedence: a URL given in code or by a command's `--store` flag, then AGENTGUARD_STORE_URL, then
 * `store.url` in the agentguard.config.json found from the working directory (as every command finds its project).
 */

/** What a process selected with `--store` (set by the CLI before any store opens). */
let selected: string | undefined;

/** Selects the store of this process (`--store`); undefined clears it. Validated now, so a bad URL fails before any work. */
export function selectStoreUrl(url: string | undefined): void {
  if (url !== undefined) checkStoreUrl(url, '--store');
  selected = url;
}

/** The URL `--store` selected, if any (a detached sidecar gets it through its environment, not its command line). */
export function selectedStoreUrl(): string | undefined {
  return selected;
}

/** The store settings of the project config found from `cwd`, without loading the rest of it. */
function configuredStore(cwd = process.cwd()): { url?: string; chain?: string; where: string } | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const file = join(dir, 'agentguard.config.json');
    if (existsSync(file)) {
      let store: unknown;
      try {
        store = (JSON.parse(readFileSync(file, 'utf8')) as { store?: unknown }).store;
      } catch {
        return undefined; // loadProjectConfig reports an unreadable config where it is loaded
      }
      if (store === undefined) return undefined;
      return { ...checkStoreConfig(store, `${file}: store`), where: `${file}: store.url` };
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Checks the `store` section of agentguard.config.json: `{ "url": "postgresql://…", "chain": "<name>" }`, both optional. */
export function checkStoreConfig(value: unknown, where: string): { url?: string; chain?: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AgentGuardError('CONFIG_INVALID', `${where} must be an object`, { actions: ['Write "store": { "url": "postgresql://user@host:5432/agentguard" }, or remove it to use SQLite.'] });
  }
  const out: { url?: string; chain?: string } = {};
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'url' && key !== 'chain') throw new AgentGuardError('CONFIG_INVALID', `${where}: unknown field "${key}"`, { actions: ['Allowed fields: url, chain.'] });
    if (typeof v !== 'string' || v === '') throw new AgentGuardError('CONFIG_INVALID', `${where}.${key} must be a non-empty string`);
  }
  const { url, chain } = value as { url?: string; chain?: string };
  if (url !== undefined) out.url = checkStoreUrl(url, `${where}.url`);
  if (chain !== undefined) out.chain = checkChainName(chain, `${where}.chain`);
  return out;
}

/** A postgres:// URL as given; anything else is refused, naming where it came from but never echoing it (it may hold a password). */
export function checkStoreUrl(url: string, where: string): string {
  if (!/^postgres(ql)?:\/\/./i.test(url)) {
    throw new AgentGuardError('STORE_URL_INVALID', `${where}: the store URL must start with postgresql:// (or postgres://)`, {
      actions: ['Write it as postgresql://user:password@host:5432/database; leave it out to use SQLite in the data folder.'],
    });
  }
  try {
    new URL(url);
  } catch {
    throw new AgentGuardError('STORE_URL_INVALID', `${where}: the store URL cannot be parsed`, {
      actions: ['Percent-encode special characters in the user name and password (e.g. @ as %40).'],
    });
  }
  return url;
}

function checkChainName(chain: string, where: string): string {
  if (!/^[A-Za-z0-9._:-]{1,100}$/.test(chain)) {
    throw new AgentGuardError('CONFIG_INVALID', `${where}: a chain name is 1 to 100 letters, digits and . _ : -`);
  }
  return chain;
}

/** The PostgreSQL URL this process should use, or undefined for SQLite. */
export function resolveStoreUrl(explicit?: string): string | undefined {
  if (explicit !== undefined) return checkStoreUrl(explicit, 'store URL');
  if (selected !== undefined) return selected;
  const env = process.env.AGENTGUARD_STORE_URL;
  if (env !== undefined && env !== '') return checkStoreUrl(env, 'AGENTGUARD_STORE_URL');
  return configuredStore()?.url;
}

/**
 * The audit chain of this instance: AGENTGUARD_STORE_CHAIN, else `store.chain` in the config, else the host name and a
 * short hash of the data folder, which holds the instance's signing key: one chain per key.
 */
export function resolveChain(dataDir: string, explicit?: string): string {
  if (explicit !== undefined) return checkChainName(explicit, 'chain');
  const env = process.env.AGENTGUARD_STORE_CHAIN;
  if (env !== undefined && env !== '') return checkChainName(env, 'AGENTGUARD_STORE_CHAIN');
  const configured = configuredStore()?.chain;
  if (configured !== undefined) return configured;
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60) || 'host';
  return `${host}:${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 8)}`;
}
