import { Flags } from '@oclif/core';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { writeCheckpointFile } from '../../core/audit/checkpoint.js';
import { loadOrCreateSigningKeys } from '../../core/audit/keys.js';
import { signHead } from '../../core/audit/sign-head.js';
import type { Checkpoint } from '../../core/audit/types.js';
import { openStore } from '../../core/store/open-store.js';

/** `--json` output: where the checkpoint was written and the signed checkpoint itself. */
export interface AuditCheckpointResult {
  file: string;
  checkpoint: Checkpoint;
}

export default class AuditCheckpoint extends BaseCommand {
  static summary = 'Sign the current head of the audit log and write it to a file to keep elsewhere.';
  static description = `Signs a fresh checkpoint (seq, hash, time, its number and a link to the checkpoint before it) at the current head of the log with the audit key, stores it in the log (and next to the key), and writes it with the public key to --out.

Keep the file where whoever can write to the log cannot change it (another host, object storage with retention, a ticket). \`agentguard audit verify --checkpoint <file>\` then finds records removed from the end, or a log rolled back to an earlier state, even if the stored checkpoints were removed with them.`;

  static examples = [
    { description: 'Save a checkpoint', command: '<%= config.bin %> <%= command.id %> --out audit-checkpoint.json' },
    { description: 'Later, check the log against it', command: '<%= config.bin %> audit verify --checkpoint audit-checkpoint.json' },
  ];

  static flags = {
    out: Flags.string({ char: 'o', required: true, description: 'File to write the signed checkpoint to (JSON).' }),
    ...dataDirFlag,
  };

  async run(): Promise<AuditCheckpointResult> {
    const { flags } = await this.parse(AuditCheckpoint);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const store = await openStore({ dataDir, create: false });
    let checkpoint: Checkpoint;
    let publicKeyPem: string;
    try {
      const keys = loadOrCreateSigningKeys(dataDir);
      publicKeyPem = keys.publicKeyPem;
      // A manual checkpoint makes no promise about when the next one comes (intervalMs 0).
      checkpoint = (await signHead(store, keys, { reason: 'manual', intervalMs: 0, onWarning: (message) => this.warn(message) }))!;
    } finally {
      await store.close();
    }
    await writeCheckpointFile(flags.out, checkpoint, publicKeyPem);
    if (!this.jsonEnabled()) {
      process.stdout.write(`Wrote the checkpoint of seq ${checkpoint.seq} (hash ${checkpoint.hash.slice(0, 16)}…, key ${checkpoint.keyId.slice(0, 19)}…) to ${flags.out}\n`);
      this.note(`Keep it where the log's writers cannot change it; check the log with \`agentguard audit verify --checkpoint ${flags.out}\`.`);
    }
    return { file: flags.out, checkpoint };
  }
}
