/**
 * What the registry says about one error code. Every error a user can see is one of these codes; where it is thrown
 * only the message (what went wrong, where) and, when it knows better, the actions are its own.
 */
export interface ErrorSpec {
  /** HTTP status when the error answers a sidecar request (always 4xx or 5xx). */
  status: number;
  /** Exit code of a CLI command that ends with it (1 the checked thing failed, 2 usage or unreadable input, 70 a bug). */
  exit: number;
  /** What the error means, one sentence (docs/errors.md). */
  meaning: string;
  /** How to fix it; also the error's `actions` when the code that throws it gives none. */
  fix: string;
}

/** Keeps an area's literal keys (for the code union) while checking each entry is a full ErrorSpec. */
export function defineErrors<const T extends Record<string, ErrorSpec>>(specs: T): T {
  return specs;
}
