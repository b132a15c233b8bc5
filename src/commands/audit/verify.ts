import { Flags } from '@oclif/core';
import { readFile } from 'node:fs/promises';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';
import { readCheckpointFile } from '../../core/audit/checkpoint.js';
import { parsePublicKeyPem, type PublicKeyInfo } from '../../core/audit/keys.js';
import type { VerifyResult } from '../../core/audit/types.js';
import { verifyDataFolderAudit } from '../../core/audit/verify-data-folder.js';
import type { ChainVerifyResult } from '../../core/audit/verify-chains.js';
import { parseDuration } from '../../core/audit/filters.js';
import { AgentGuardError } from '../../core/errors.js';
import { databasePath, openStore } from '../../core/store/open-store.js';

/**
 * `--json` output: `{ ok, records, checkpoints, problems: [{ seq, kind, message }] }` (+ `omittedProblems` when capped,
 * `notes` when there is something verification could not check or noticed without it being tampering).
 */
export type AuditVerifyResult = VerifyResult & {
  /** On a store of several instances' chains (PostgreSQL): each chain's own result, and where its key came from. */
  chains?: ChainVerifyResult[];
};

export default class AuditVerify extends BaseCommand {
  static summary = 'Check that no audit record was changed, removed, inserted, reordered or cut off.';
  static description = `Recomputes the hash of every record from its stored columns, checks every link of the chain and that sequence numbers are contiguous, checks the Ed25519 signature of every stored checkpoint, and that the log still reaches and matches each of them.

Checkpoints are numbered and linked, and the first record after each holds a copy of it, so a deleted checkpoint is reported. The signer also keeps its latest checkpoint next to the key (keys/latest-checkpoint.json), which verify reads when it is there: a log cut back, rolled back or emptied is then found as long as whoever changed the database could not write the keys folder. Records that no checkpoint covers, older than the signer's checkpoint interval plus --unsigned-slack, are reported as unsigned.

Someone who can also write the keys folder (and so can usually read the private key) can rewrite everything: against that, only a checkpoint kept elsewhere helps. Pass one written by \`agentguard audit checkpoint --out <file>\` with --checkpoint.

On a fleet's PostgreSQL store (--store), every instance's chain is verified on its own and reported: with this data folder's key for its own chain, --public-key for a chain that key signed, else the key the instance registered in the store (see docs/fleet.md).

Exit codes: 0 intact; 1 tampered (the first bad sequence number and what is wrong are named); 2 cannot read (no database, unreadable key or checkpoint file).`;

  static examples = [
    { description: 'Verify the project audit log', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Also check that the log was not truncated or rolled back since a saved checkpoint', command: '<%= config.bin %> <%= command.id %> --checkpoint ~/audit-checkpoints/2025-01-31.json' },
    { description: 'Verify with a public key given to you, in a CI job', command: '<%= config.bin %> <%= command.id %> --public-key audit-key.pem --json' },
  ];

  static flags = {
    checkpoint: Flags.string({ char: 'c', description: 'A checkpoint file kept elsewhere (from `audit checkpoint --out`); finds truncation and rollback.' }),
    'public-key': Flags.string({ description: 'PEM public key to check signatures with, instead of the one in the data folder.' }),
    'unsigned-slack': Flags.string({ description: 'How long past the signer\'s checkpoint interval a record may stay unsigned before it is reported (e.g. 2m, 1h).', default: '2m' }),
    ...dataDirFlag,
  };

  async run(): Promise<AuditVerifyResult> {
    const { flags } = await this.parse(AuditVerify);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const externalCheckpoint = flags.checkpoint === undefined ? undefined : await readCheckpointFile(flags.checkpoint);
    const publicKey = flags['public-key'] === undefined ? undefined : await readPublicKeyFile(flags['public-key']);
    const unsignedSlackMs = parseDuration(flags['unsigned-slack']);
    if (unsignedSlackMs === undefined) {
      throw new AgentGuardError('USAGE', `--unsigned-slack: "${flags['unsigned-slack']}" is not a duration`, {
        actions: ['Use a duration such as 30s, 2m, 1h or 1h30m.'],
      });
    }
    const store = await openStore({ dataDir, create: false });
    let result: AuditVerifyResult;
    let location = databasePath({ dataDir });
    try {
      const progress = process.stderr.isTTY && !this.jsonEnabled();
      if (store.auditChains) {
        // A fleet's store: every instance's chain, each verified on its own.
        const { verifyAllChains } = await import('../../core/audit/verify-chains.js');
        location = store.location.replace(/#.*$/, '');
        result = await verifyAllChains(store, dataDir, { publicKey, externalCheckpoint, unsignedSlackMs });
      } else result = await verifyDataFolderAudit(store, dataDir, {
        publicKey,
        externalCheckpoint,
        unsignedSlackMs,
        onProgress: progress ? (n) => process.stderr.write(`\rVerifying… ${n.toLocaleString('en-US')} records`) : undefined,
      });
      if (progress) process.stderr.write('\r\x1b[K');
    } finally {
      await store.close();
    }

    if (!result.ok) process.exitCode = 1;
    if (!this.jsonEnabled()) {
      for (const c of result.chains ?? []) {
        const state = c.ok ? paint.green('intact') : paint.red('TAMPERED');
        process.stdout.write(`  chain ${c.chain}: ${state}, ${plural(c.records, 'record')}, ${plural(c.checkpoints, 'signed checkpoint')} (key ${c.keyId ?? 'none'} from ${c.keySource})\n`);
      }
      this.render(result, location, flags.checkpoint);
    }
    return result;
  }

  private render(result: VerifyResult, location: string, checkpointFile: string | undefined): void {
    const counts = `${plural(result.records, 'record')}, ${plural(result.checkpoints, 'signed checkpoint')}`;
    const notes = (result.notes ?? []).map((n) => `Note: ${n}.`);
    if (result.ok) {
      process.stdout.write(`${paint.green('Audit log intact')}: ${counts} (${location})${checkpointFile ? `; matches ${checkpointFile}` : ''}\n`);
      for (const n of notes) this.note(n);
      if (result.checkpoints === 0 && !checkpointFile) {
        this.note('No signed checkpoints yet, so a log cut off at the end would go unnoticed. Run `agentguard audit checkpoint --out <file>` and keep the file elsewhere.');
      }
      return;
    }
    const total = result.problems.length + (result.omittedProblems ?? 0);
    process.stdout.write(`${paint.red('Audit log TAMPERED')}: ${plural(total, 'problem')} in ${counts} (${location})\n`);
    const width = Math.max(...result.problems.map((p) => String(p.seq).length));
    for (const p of result.problems) {
      process.stdout.write(`  seq ${String(p.seq).padStart(width)}  ${paint.bold(p.kind.padEnd(13))}  ${p.message}\n`);
    }
    if (result.omittedProblems) process.stdout.write(`  … and ${plural(result.omittedProblems, 'more problem')} (use --json for the list)\n`);
    for (const n of notes) this.note(n);
    this.note(`\nFirst bad record: seq ${result.problems[0].seq}. Do not trust records from there on; restore the database from a backup or a copy kept elsewhere, and find out who could write to ${location}.`);
  }
}

async function readPublicKeyFile(file: string): Promise<PublicKeyInfo> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AgentGuardError('AUDIT_KEY_UNREADABLE', `cannot read the public key ${file}${code ? ` (${code})` : ''}`, {
      actions: ['Check the path; export the key with `agentguard audit public-key --out <file>`.'],
      cause: error,
    });
  }
  return parsePublicKeyPem(pem, file);
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}
