/**
 * The input-length cap of policy regexes: the safety net behind the load-time ReDoS check. A value longer than the cap
 * is never handed to the regex engine; the condition (or replace step) errors instead, which denies for any rule that
 * could deny (and never allows). Regexes proven linear by the check stay fast at any length below the cap; the cap
 * bounds the time of a regex accepted with `unsafeRegex: true` (polynomial ones) or one the checker got wrong.
 */
export const DEFAULT_REGEX_MAX_LENGTH = 65_536;

/** Largest `maxLength` a policy may set (16 Mi characters). */
export const MAX_REGEX_MAX_LENGTH = 16 * 1024 * 1024;

/** Throws when `value` is longer than the cap, so that the regex never runs on it. */
export function checkRegexInput(value: string, maxLength: number, what: string): void {
  if (value.length > maxLength) {
    throw new Error(
      `the value is ${value.length} characters, longer than the regex's maxLength ${maxLength} (${what}); raise maxLength on that regex if such values are expected`,
    );
  }
}
