import type { RedactionVault } from './vault.js';

/** What a redaction needs from a finding: where, and what kind of thing, it is. */
export interface RedactSpan {
  start: number;
  end: number;
  type: string;
  /** Used to pick the type when overlapping spans are merged (highest wins); 1 when absent. */
  score?: number;
}

export interface Replacement {
  /** UTF-16 range of the ORIGINAL text that was replaced. */
  start: number;
  end: number;
  type: string;
  /** The text put in its place. */
  replacement: string;
}

export interface RedactionResult {
  text: string;
  replacements: Replacement[];
}

export type RedactOptions =
  /** `<EMAIL_ADDRESS>` */
  | { mode: 'replace' }
  /** `****1234`: at most the last 4 characters, never more than a third of the value. */
  | { mode: 'mask' }
  /** `<EMAIL_ADDRESS:ab12cd34ef56>`: HMAC-SHA256 under `key` (at least 16 bytes), first 12 hex digits. */
  | { mode: 'hash'; key: string | Uint8Array }
  /** `<enc:EMAIL_ADDRESS:…>`: AES-256-GCM under a 32-byte `key`; {@link decryptTokens} reverses it. */
  | { mode: 'encrypt'; key: Uint8Array }
  /** `<EMAIL_ADDRESS_1>`: originals kept in `vault`; `vault.restore(text)` puts them back. */
  | { mode: 'vault'; vault: RedactionVault };

export type RedactMode = RedactOptions['mode'];
export const REDACT_MODES: readonly RedactMode[] = ['replace', 'mask', 'hash', 'encrypt', 'vault'];
