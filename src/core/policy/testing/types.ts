import type { Action, Decision, Effect } from '../../action.js';

/** What a case expects of the decision. At least one field is set. */
export interface Expectation {
  effect?: Effect;
  /** A rule id, or several, that must all be among the decision's reasons. */
  rule?: string | string[];
  /** A partial action the decision's action must contain (deep subset; lists element by element). */
  action?: Record<string, unknown>;
}

/** Where something sits in a file; line and column are 1-based. */
export interface Location {
  line?: number;
  column?: number;
}

/** One validated case of a test file. */
export interface PolicyTestCase extends Location {
  /** Position in the file's `cases` list. */
  index: number;
  name: string;
  action: Action;
  expect: Expectation;
  /** Parameter values the case is decided with, over the ones in use (for a policy that declares params). */
  params?: Record<string, unknown>;
  /** The time the case is decided at (ISO 8601), for time conditions. */
  at?: string;
}

/** A validated test file, with its policy path resolved. */
export interface PolicyTestFile {
  /** Absolute path of the test file. */
  path: string;
  /** The test file as shown to users (relative to the working directory). */
  file: string;
  /** Absolute path of the policy under test. */
  policyPath: string;
  /** The policy file as shown to users. */
  policyFile: string;
  cases: PolicyTestCase[];
  /** Set for the tests of a pack a policy includes: the pack's parameters in that policy, which every case runs with. */
  includedBy?: { policyFile: string; spec: string; params: Record<string, unknown> };
}

/** The outcome of one case. */
export interface PolicyTestCaseResult extends Location {
  /** The test file as shown to users. */
  file: string;
  /** Absolute path of the test file. */
  path: string;
  /** The policy file as shown to users. */
  policy: string;
  /** Set for the tests of an included pack: the pack and the policy whose params it ran with (same as `policy`). */
  pack?: string;
  name: string;
  passed: boolean;
  expected: Expectation;
  actual: Decision;
  /** Each way the decision differs from the expectation; empty when the case passed. */
  failures: string[];
}

/** Rules of one policy file that no case reached. */
export interface PolicyCoverage {
  /** The policy file as shown to users. */
  policy: string;
  /** Number of rules in the policy. */
  rules: number;
  /** Ids of rules that matched in no case, in file order. */
  uncovered: string[];
}

/** Everything a reporter needs: results grouped by test file, counts, and coverage when asked for. */
export interface PolicyTestRun {
  files: Array<{ file: string; path: string; policy: string; results: PolicyTestCaseResult[] }>;
  results: PolicyTestCaseResult[];
  passed: number;
  failed: number;
  coverage?: PolicyCoverage[];
}
