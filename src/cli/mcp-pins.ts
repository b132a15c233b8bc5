import { isAgentGuardError } from '../core/errors.js';
import type { McpPinStore } from '../core/mcp-pins/types.js';

/**
 * Runs `work` on the pins of a data folder. Without a database nothing was ever listed: `work` gets null (listing
 * shows nothing, approve and reset report the name as unknown), and no database is created.
 */
export async function withPinStore<T>(dataDir: string, work: (pins: McpPinStore | null) => Promise<T>): Promise<T> {
  const { openStore } = await import('../core/store/open-store.js');
  let store;
  try {
    store = await openStore({ dataDir, create: false });
  } catch (error) {
    if (isAgentGuardError(error) && error.code === 'STORE_NOT_FOUND') return work(null);
    throw error;
  }
  try {
    return await work(store.mcpPins);
  } finally {
    await store.close();
  }
}
