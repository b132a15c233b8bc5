import type { Detections } from '../guardrails/detections.js';
import type { RedactionVault } from '../guardrails/redact/index.js';

/** Redaction inputs that must not live in a policy file. */
export interface RedactionSettings {
  /** Key for `hash` (≥ 16 bytes) and `encrypt` (32 bytes) redaction, or a loader called when one is first needed. */
  key?: Uint8Array | (() => Uint8Array);
  /** Filled by `vault` redaction; holds the originals, so it never leaves the process. */
  vault?: RedactionVault;
}

/** What one evaluation carries besides the action: the decision's guardrail results and redaction settings. */
export interface EvalContext {
  detections: Detections;
  redaction: RedactionSettings;
  /** The decision's time, read by `time` conditions (the clock when absent). */
  now?: Date;
}
