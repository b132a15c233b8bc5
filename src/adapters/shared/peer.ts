import { AgentGuardError } from '../../core/errors.js';

/**
 * Fails with a clear message when a framework adapter is loaded without its framework installed (the frameworks are
 * optional peer dependencies: `agentguard/sdk` never needs them). Resolving costs no import of the framework.
 */
export function assertPeerInstalled(name: string, entry: string): void {
  try {
    import.meta.resolve(name);
  } catch (error) {
    throw new AgentGuardError('PEER_DEPENDENCY_MISSING', `${entry} needs the "${name}" package, which is not installed`, {
      actions: [`Install it next to agentguard: npm install ${name}`],
      cause: error,
    });
  }
}
