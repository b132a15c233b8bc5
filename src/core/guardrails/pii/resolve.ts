import type { Candidate } from './recognizer.js';

/** Below this many candidates the pairwise check is cheaper than marking the text. */
const PAIRWISE_MAX = 64;

/**
 * Keeps a set of non-overlapping spans: higher score first, then the longer span, then the
 * earlier start, then the type name, so the outcome never depends on recognizer order.
 */
export function resolveOverlaps(candidates: readonly Candidate[]): Candidate[] {
  const ranked = [...candidates].sort(
    (a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0),
  );
  const kept: Candidate[] = [];
  if (ranked.length <= PAIRWISE_MAX) {
    for (const c of ranked) if (kept.every((k) => c.end <= k.start || k.end <= c.start)) kept.push(c);
  } else {
    // Comparing each candidate with every kept one is quadratic in their number (a long text of dates or numbers has
    // hundreds of thousands). Marking the characters kept spans cover costs the total length of the spans instead:
    // each recognizer's matches do not overlap one another, so that total is a few times the text's length at most.
    const end = ranked.reduce((most, c) => Math.max(most, c.end), 0);
    const covered = new Uint8Array(end);
    for (const c of ranked) {
      let free = true;
      for (let i = c.start; i < c.end; i++) {
        if (covered[i] === 1) {
          free = false;
          break;
        }
      }
      if (!free) continue;
      covered.fill(1, c.start, c.end);
      kept.push(c);
    }
  }
  return kept.sort((a, b) => a.start - b.start);
}
