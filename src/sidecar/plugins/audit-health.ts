import { isAgentGuardError } from '../../core/errors.js';
import type { AuditSink } from '../../core/audit/sink.js';
import type { SidecarServices } from './services.js';

/**
 * The recorder as the decision routes hand it to the pipeline, keeping `/readyz`'s audit check: a store that fails
 * to write makes the sidecar not ready until a later write succeeds. An entry the audit refuses for its own content
 * (`AUDIT_ENTRY_INVALID`) is that request's problem, answered with a deny; it says nothing about the store, so no
 * single request can change readiness that way.
 */
export function auditSinkFor(services: Pick<SidecarServices, 'recorder' | 'auditHealth'>): AuditSink {
  const { recorder, auditHealth } = services;
  return {
    get ledgerStore() {
      return recorder.ledgerStore;
    },
    async append(entries, options) {
      try {
        const records = await recorder.append(entries, options);
        auditHealth.lastFailure = null;
        return records;
      } catch (error) {
        if (!(isAgentGuardError(error) && error.code === 'AUDIT_ENTRY_INVALID')) {
          const code = isAgentGuardError(error) ? error.code : undefined;
          auditHealth.lastFailure = { at: new Date().toISOString(), message: (error as Error)?.message ?? String(error), ...(code ? { code } : {}) };
        }
        throw error;
      }
    },
  };
}
