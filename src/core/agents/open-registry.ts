import { isAgentGuardError } from '../errors.js';
import type { AgentRegistry } from './registry.js';

/**
 * Runs `use` on the registry of a data folder, opened without creating anything; null when there is no database yet
 * (nothing has been scanned or registered there). Other failures to open it are thrown.
 */
export async function readRegistry<T>(dataDir: string, use: (registry: AgentRegistry) => Promise<T>): Promise<T | null> {
  // The store is a native module: load it only when it is used.
  const { openStore } = await import('../store/open-store.js');
  let store;
  try {
    store = await openStore({ dataDir, create: false });
  } catch (error) {
    if (isAgentGuardError(error) && error.code === 'STORE_NOT_FOUND') return null;
    throw error;
  }
  try {
    return await use(store.agents);
  } finally {
    await store.close();
  }
}

/** Runs `use` on the registry of a data folder, creating the folder and database when missing. */
export async function writeRegistry<T>(dataDir: string, use: (registry: AgentRegistry) => Promise<T>): Promise<T> {
  const { openStore } = await import('../store/open-store.js');
  const store = await openStore({ dataDir, create: true });
  try {
    return await use(store.agents);
  } finally {
    await store.close();
  }
}
