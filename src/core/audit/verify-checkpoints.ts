import { checkpointHash, checkpointOfRecordData, checkpointSignatureProblem } from './checkpoint.js';
import type { PublicKeyInfo } from './keys.js';
import type { Checkpoint } from './types.js';
import type { Problems } from './verify-problems.js';

/**
 * The checks that make a rewritten tail visible without a checkpoint kept elsewhere: linked checkpoints form one
 * numbered line (a deleted one is a gap), every checkpoint is copied into the chain by the first append after it (a
 * checkpoint deleted from its table is still named there, and a tail rewritten after one lacks its copy), and records
 * that no checkpoint covers, older than the signer's interval plus slack, are reported as unsigned.
 */

/** A chain record of type checkpoint whose hash and link check out: its seq, prev_hash and parsed data. */
export interface ChainedCheckpoint {
  seq: number;
  prevHash: string;
  data: unknown;
}

/** The interval assumed for logs with no linked checkpoint: AuditRecorder's default checkpointIntervalMs. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;
/** Default slack on top of the interval before unsigned records are reported. */
export const DEFAULT_UNSIGNED_SLACK_MS = 120_000;
/** Most notes listed about checkpoints signed at start. */
const MAX_START_NOTES = 5;

export interface LinkedCheckInput {
  /** Stored checkpoints whose signature verifies (legacy and linked). */
  stored: Checkpoint[];
  /** Every stored checkpoint, also those that do not verify (already reported): they still mark records as looked after. */
  allStored: Checkpoint[];
  key: PublicKeyInfo | null;
  chained: ChainedCheckpoint[];
  /** Checkpoints kept outside the database that verify with the log's key (a file, the witness next to the key). */
  outside: { checkpoint: Checkpoint; name: string }[];
  lastSeq: number;
  readError: boolean;
  problems: Problems;
  /** True when a row after `seq` failed the chain checks (already reported, or folded into a reported problem). */
  failedAfter: (seq: number) => boolean;
  timeAt: (seq: number) => Promise<string | undefined>;
  now: Date;
  slackMs: number;
}

interface Known {
  checkpoint: Checkpoint;
  /** Where it was seen first: 'table', 'chain' or an outside name. */
  source: string;
  /** For chain copies: the seq of the record holding it. */
  recordSeq?: number;
}

/** Runs the checks above; adds problems and returns notes. */
export async function checkLinkedCheckpoints(input: LinkedCheckInput): Promise<string[]> {
  const { problems } = input;
  const notes: string[] = [];
  const linked = input.stored.filter((c) => c.n !== undefined);
  const legacy = input.stored.filter((c) => c.n === undefined);
  const table = new Map<number, Checkpoint>();
  const known = new Map<number, Known>();
  const remember = (k: Known): void => {
    const n = k.checkpoint.n!;
    const seen = known.get(n);
    if (!seen) {
      known.set(n, k);
      return;
    }
    if (checkpointHash(seen.checkpoint) !== checkpointHash(k.checkpoint)) {
      const [a, b] = [seen.checkpoint, k.checkpoint];
      problems.add(Math.min(a.seq, b.seq), 'truncated', `two different checkpoints #${n} were signed (${describe(seen)} and ${describe(k)}): the log was rolled back to an earlier copy and written again from there`);
    }
  };
  for (const cp of linked) {
    if (!table.has(cp.n!)) table.set(cp.n!, cp);
    remember({ checkpoint: cp, source: 'table' });
  }

  // The chain's copies.
  const copyAt = new Map<number, Checkpoint>();
  for (const record of input.chained) {
    const cp = checkpointOfRecordData(record.data);
    if (typeof cp === 'string') {
      problems.add(record.seq, 'changed', `record ${record.seq} is a checkpoint record, but ${cp}`);
      continue;
    }
    const bad = input.key ? checkpointSignatureProblem(cp, input.key) : null;
    if (bad) {
      problems.add(record.seq, 'bad_signature', `record ${record.seq}, the chain's copy of checkpoint #${cp.n}, does not verify: ${bad}`);
      continue;
    }
    if (cp.seq !== record.seq - 1) {
      problems.add(record.seq, 'changed', `record ${record.seq} holds checkpoint #${cp.n} of seq ${cp.seq}, which belongs right after seq ${cp.seq}: it was copied or moved here`);
      continue;
    }
    if (cp.hash !== record.prevHash) {
      if (!problems.hasAtOrBefore(cp.seq)) {
        problems.add(cp.seq, 'changed', `record ${cp.seq} does not match checkpoint #${cp.n} (signed ${cp.time}), whose copy the chain holds at seq ${record.seq}: records up to ${cp.seq} were rewritten and their hashes recomputed`);
      }
      // Still a genuine checkpoint (its signature verifies): evidence that it existed.
      remember({ checkpoint: cp, source: 'chain', recordSeq: record.seq });
      continue;
    }
    copyAt.set(record.seq, cp);
    remember({ checkpoint: cp, source: 'chain', recordSeq: record.seq });
  }
  for (const o of input.outside) if (o.checkpoint.n !== undefined) remember({ checkpoint: o.checkpoint, source: o.name });

  // Gaps in the numbering: every number up to the highest known must be in the table (a stored checkpoint whose
  // signature fails holds its place: it is reported as bad_signature already).
  const maxN = Math.max(0, ...known.keys());
  const claimed = new Set(input.allStored.map((c) => c.n));
  const present = (n: number): boolean => table.has(n) || claimed.has(n);
  for (let n = 1; n <= maxN; n++) {
    if (present(n)) continue;
    let end = n;
    while (end + 1 <= maxN && !present(end + 1)) end++;
    const range = n === end ? `checkpoint #${n} is` : `checkpoints #${n}..#${end} are`;
    const evidence: string[] = [];
    const next = table.get(end + 1);
    if (next) evidence.push(`checkpoint #${end + 1} links to #${end}`);
    for (let m = n; m <= end && evidence.length < 3; m++) {
      const k = known.get(m);
      if (k && k.source === 'chain') evidence.push(`the chain holds #${m} at seq ${k.recordSeq}`);
      else if (k && k.source !== 'table') evidence.push(`${k.source} is #${m}, signed ${k.checkpoint.time} at seq ${k.checkpoint.seq}`);
    }
    // Where it shows: the missing checkpoint's own seq when known, else the first record it covered.
    const first = known.get(n)?.checkpoint.seq ?? (table.get(n - 1)?.seq ?? 0) + 1;
    problems.add(first, 'checkpoint_missing', `signed ${range} missing from the checkpoint table (${evidence.join('; ')}): deleted, so the records ${n === end ? 'it' : 'they'} covered are no longer proven by ${n === end ? 'it' : 'them'}`);
    n = end;
  }

  // Links between consecutive checkpoints in the table.
  const legacyHashes = new Set(legacy.map(checkpointHash));
  for (const [n, cp] of table) {
    if (n === 1) {
      if (cp.prev && !legacyHashes.has(cp.prev)) {
        problems.add(cp.seq, 'checkpoint_missing', `checkpoint #1 (signed ${cp.time}) links to a checkpoint signed before checkpoints were numbered, which is no longer stored: it was deleted`);
      }
      continue;
    }
    const before = table.get(n - 1);
    if (before && cp.prev !== checkpointHash(before)) {
      problems.add(before.seq, 'truncated', `checkpoint #${n} (signed ${cp.time}) does not link to the stored checkpoint #${n - 1} (signed ${before.time}): there were two different checkpoints #${n - 1}, so the log was rolled back to an earlier copy and written again from there`);
    }
  }

  // Every checkpoint is copied into the chain by the first append after it: a record after a checkpoint's seq that is
  // not its copy means the records from there on were replaced.
  if (!input.readError) {
    const latestAt = new Map<number, Checkpoint>();
    for (const cp of table.values()) if ((latestAt.get(cp.seq)?.n ?? 0) < cp.n!) latestAt.set(cp.seq, cp);
    for (const [seq, cp] of latestAt) {
      if (seq >= input.lastSeq || problems.hasAtOrBefore(seq + 1)) continue;
      if (copyAt.get(seq + 1)?.n === cp.n) continue;
      problems.add(seq + 1, 'changed', `record ${seq + 1} should be the chain's copy of checkpoint #${cp.n} (signed ${cp.time} at seq ${seq}), as the first record written after every checkpoint is, but it is not: the records from seq ${seq + 1} on were replaced`);
    }
  }

  // Records no checkpoint covers.
  // A checkpoint beyond the end covers it too (the log was cut back: reported as truncated), and so does one whose
  // signature fails (reported as bad_signature); records already reported as changed, inserted or the like past the
  // last covered one are not reported again as unsigned.
  const covering = [...input.allStored, ...[...known.values()].map((k) => k.checkpoint)];
  const covered = Math.min(input.lastSeq, Math.max(0, ...covering.map((c) => c.seq)));
  if (!input.readError && covered < input.lastSeq && !problems.hasRecordProblemAfter(covered) && !input.failedAfter(covered)) {
    const promises = [...known.values()].map((k) => k.checkpoint.intervalMs ?? 0);
    const interval = promises.length === 0 ? DEFAULT_CHECKPOINT_INTERVAL_MS : Math.max(...promises);
    const from = covered + 1;
    if (interval === 0) {
      notes.push(`records ${from}..${input.lastSeq} are covered by no signed checkpoint yet; their signers sign on no timer, so how long they have been unsigned cannot be judged`);
    } else {
      // The chain's copy of the last checkpoint carries that checkpoint's time; the records after it are what is dated.
      const firstTime = await input.timeAt(copyAt.has(from) && from < input.lastSeq ? from + 1 : from);
      const written = firstTime === undefined ? Number.NaN : Date.parse(firstTime);
      const limit = interval + input.slackMs;
      if (input.now.getTime() - written <= limit) {
        // Recent enough: a writer may still sign them.
      } else if (input.key === null) {
        notes.push(`there is no public key to check signatures with, so records ${from}..${input.lastSeq} are protected by the hash chain only: whoever can write the database can rewrite them`);
      } else {
        const lastTime = await input.timeAt(input.lastSeq);
        const range = from === input.lastSeq ? `record ${from}` : `records ${from}..${input.lastSeq}`;
        const when = firstTime === undefined ? 'at an unreadable time' : from === input.lastSeq ? `at ${firstTime}` : `${firstTime} to ${lastTime ?? '?'}`;
        problems.add(
          from,
          'unsigned',
          `${range} (written ${when}) ${from === input.lastSeq ? 'is' : 'are'} covered by no signed checkpoint, although one is signed at most ${duration(interval)} after a record (checked with ${duration(input.slackMs)} of slack): either the records after seq ${covered} were rewritten and the checkpoints covering them deleted, or the process writing them stopped before signing and no agentguard has opened the log since. If a writer crashed, starting the sidecar or an AgentGuard in local mode signs them (then listed as signed at start)`,
        );
      }
    }
  }

  if (legacy.length > 0) {
    const upTo = Math.max(...legacy.map((c) => c.seq));
    notes.push(`${legacy.length} checkpoint${legacy.length === 1 ? ' was' : 's were'} signed in the legacy format, before checkpoints were numbered and linked (up to seq ${upTo}): deleting one of them leaves no trace`);
  }
  const starts = [...table.values()].filter((c) => c.reason === 'start').sort((a, b) => a.n! - b.n!);
  for (const cp of starts.slice(0, MAX_START_NOTES)) {
    const before = table.get(cp.n! - 1);
    notes.push(`checkpoint #${cp.n} was signed at start (${cp.time}): records ${(before?.seq ?? 0) + 1}..${cp.seq} were found unsigned (a writer had stopped before signing them, or another was still within its checkpoint interval) and were unprotected until then`);
  }
  if (starts.length > MAX_START_NOTES) notes.push(`… and ${starts.length - MAX_START_NOTES} more checkpoints signed at start`);
  return notes;
}

function describe(k: Known): string {
  const where = k.source === 'table' ? 'in the checkpoint table' : k.source === 'chain' ? `in the chain at seq ${k.recordSeq}` : k.source;
  return `${where}, signed ${k.checkpoint.time} at seq ${k.checkpoint.seq}`;
}

function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
