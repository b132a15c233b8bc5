import type { AgentRegistry } from './registry.js';

/**
 * Runs `use` on the registry of a data folder, opened without creating anything; null when there is no database yet
 * (nothing has been scanned or registered there). Other failures to open it are thrown.
 */
export async function readRegistry<T>(dataDir: string, use: (registry: AgentRegistry) => Promise<T>): Promise<T | null> {
  // The store is a native module: load it only when it is used.
  const { openExistingStore } = await import('../store/open-store.js');
  const store = await openExistingStore(dataDir);
  if (!store) return null;
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
