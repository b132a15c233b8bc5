import type { AuditProblem, AuditProblemKind } from './types.js';

const KIND_ORDER: AuditProblemKind[] = ['unreadable', 'missing', 'inserted', 'reordered', 'changed', 'truncated', 'checkpoint_missing', 'unsigned', 'bad_signature'];

/** The problems verification found, each reported once, sorted by seq and kind. */
const CHECKPOINT_KINDS = new Set<AuditProblemKind>(['bad_signature', 'checkpoint_missing', 'unsigned']);

export class Problems {
  private readonly list: { problem: AuditProblem; derivedFrom?: number }[] = [];

  /**
   * Adds a problem; `derivedFrom` marks a guess made from the link of that row, dropped if a better explanation of
   * that row turns up. With `replace`, a problem of the same kind at the same seq is replaced instead of duplicated.
   */
  add(seq: number, kind: AuditProblemKind, message: string, derivedFrom?: number, replace = false): AuditProblem {
    const same = this.list.find((e) => e.problem.seq === seq && e.problem.kind === kind);
    if (same) {
      if (replace) same.problem.message = message;
      return same.problem;
    }
    const problem = { seq, kind, message };
    this.list.push({ problem, derivedFrom });
    return problem;
  }

  /** Drops problems reported for row `seq` or guessed from its link, when a better explanation of that row turns up. */
  replaceDerivedFrom(seq: number): void {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const e = this.list[i];
      if (e.derivedFrom === seq || e.problem.seq === seq) this.list.splice(i, 1);
    }
  }

  /** True when a problem of the records themselves (not of the checkpoints) was found at or before `seq`. */
  hasAtOrBefore(seq: number): boolean {
    return this.list.some((e) => e.problem.seq <= seq && !CHECKPOINT_KINDS.has(e.problem.kind));
  }

  /** True when a problem of the records themselves was found after `seq`. */
  hasRecordProblemAfter(seq: number): boolean {
    return this.list.some((e) => e.problem.seq > seq && !CHECKPOINT_KINDS.has(e.problem.kind));
  }

  sorted(): AuditProblem[] {
    return this.list
      .map((e) => e.problem)
      .sort((x, y) => x.seq - y.seq || KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind));
  }
}
