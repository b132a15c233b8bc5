import { canonicalJson } from '../canonical-json.js';
import type { PolicyVersion } from '../store/store.js';

/**
 * What a policy version's signature covers: who put which document (by its hash) in force, how and when. The hash binds
 * the document; pushedAt lets a sidecar refuse an older signed version replayed as a new row.
 */
export type SignedPolicyFields = Pick<PolicyVersion, 'hash' | 'name' | 'action' | 'ofVersion' | 'pushedBy' | 'pushedAt'>;

/** The signed bytes: the RFC 8785 canonical JSON of exactly those six fields (nothing else a row holds). */
export function signedPolicyText(fields: SignedPolicyFields): Buffer {
  const { hash, name, action, ofVersion, pushedBy, pushedAt } = fields;
  return Buffer.from(canonicalJson({ hash, name, action, ofVersion, pushedBy, pushedAt }), 'utf8');
}
