import { tokenType } from './render.js';

/** `<TYPE_n>` as the vault writes it. */
const PLACEHOLDER = /<[A-Z][A-Z0-9_]*_\d+>/g;

/**
 * Per-request store for `vault` redaction: each distinct value gets a placeholder like `<EMAIL_ADDRESS_1>` (the
 * same value always the same placeholder), and {@link restore} puts the originals back, e.g. into the model's
 * answer. Keep one vault per request or conversation and drop it afterwards: it holds the plaintext.
 */
export class RedactionVault {
  readonly #byValue = new Map<string, string>();
  readonly #byPlaceholder = new Map<string, string>();
  readonly #counters = new Map<string, number>();

  /** Number of distinct values stored. */
  get size(): number {
    return this.#byValue.size;
  }

  /**
   * The placeholder for `value`, creating one if needed. A new placeholder never equals text already in
   * `context` (the text being redacted), so restore cannot confuse it with something the user wrote.
   */
  placeholderFor(type: string, value: string, context: string): string {
    const known = this.#byValue.get(value);
    if (known !== undefined) return known;
    const t = tokenType(type);
    let n = this.#counters.get(t) ?? 0;
    let candidate: string;
    do candidate = `<${t}_${++n}>`;
    while (context.includes(candidate) || this.#byPlaceholder.has(candidate));
    this.#counters.set(t, n);
    this.#byValue.set(value, candidate);
    this.#byPlaceholder.set(candidate, value);
    return candidate;
  }

  /** Puts back every placeholder this vault issued; other `<…>` text is left as it is. Pure. */
  restore(text: string): string {
    return text.replace(PLACEHOLDER, (p) => this.#byPlaceholder.get(p) ?? p);
  }

  /** The placeholders this vault issued, in order. */
  placeholders(): string[] {
    return [...this.#byPlaceholder.keys()];
  }
}
