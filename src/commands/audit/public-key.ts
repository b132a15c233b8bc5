import { Flags } from '@oclif/core';
import { writeFile } from 'node:fs/promises';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { loadOrCreateSigningKeys, loadPublicKey } from '../../core/audit/keys.js';
import { AgentGuardError } from '../../core/errors.js';

/** `--json` output: the key id and the PEM public key. */
export interface AuditPublicKeyResult {
  keyId: string;
  publicKey: string;
  /** Set when --out was given. */
  file?: string;
}

export default class AuditPublicKey extends BaseCommand {
  static summary = 'Print the public key that verifies audit checkpoints.';
  static description = `Prints the Ed25519 public key (PEM) of the audit log, creating the key pair if this data folder has none yet. Give it to whoever verifies the log: \`agentguard audit verify --public-key <file>\`. The private key never leaves the data folder.`;

  static examples = [
    { description: 'Print the key', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Save it for a verifier', command: '<%= config.bin %> <%= command.id %> --out audit-key.pem' },
  ];

  static flags = {
    out: Flags.string({ char: 'o', description: 'Write the PEM to this file instead of stdout.' }),
    ...dataDirFlag,
  };

  async run(): Promise<AuditPublicKeyResult> {
    const { flags } = await this.parse(AuditPublicKey);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const info = loadPublicKey(dataDir) ?? loadOrCreateSigningKeys(dataDir);
    const result: AuditPublicKeyResult = { keyId: info.keyId, publicKey: info.publicKeyPem };
    if (flags.out !== undefined) {
      try {
        await writeFile(flags.out, info.publicKeyPem, { mode: 0o644 });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new AgentGuardError('FILE_WRITE_FAILED', `cannot write ${flags.out}${code ? ` (${code})` : ''}`, {
          actions: ['Check that the folder exists and that this user may write to it.'],
          cause: error,
        });
      }
      result.file = flags.out;
      this.note(`Wrote the audit public key ${info.keyId} to ${flags.out}`);
    } else if (!this.jsonEnabled()) {
      process.stdout.write(info.publicKeyPem);
    }
    return result;
  }
}
