import { Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';

/** `--json` output: the key id and where the two files are. */
export interface PolicyKeygenResult {
  /** `sha256:<hex>` of the DER public key, as signed versions and `policy history` name it. */
  keyId: string;
  privateKey: string;
  publicKey: string;
}

export default class PolicyKeygen extends BaseCommand {
  static summary = 'Make an Ed25519 key pair to sign the policies pushed to a fleet.';
  static description = `Writes policy-signing.key.pem (PKCS#8 PEM, mode 0600, in a folder of mode 0700) and policy-signing.pub.pem (SPKI PEM) into --out, and prints the key id. Existing files are never overwritten.

Sign pushes and rollbacks with the private key (\`agentguard policy push <file> --sign-key <dir>/policy-signing.key.pem\`) on the machine of whoever may change the fleet's policy, not on the fleet's hosts; give the public key to the sidecars (\`agentguard sidecar start --policy-from-store --trust-policy-key <dir>/policy-signing.pub.pem\`).`;

  static examples = [{ description: 'A key pair in your home folder', command: '<%= config.bin %> <%= command.id %> --out ~/.agentguard-policy-key' }];

  static flags = {
    out: Flags.string({ description: 'Folder to write the two key files into (created with mode 0700).', helpValue: '<dir>', required: true }),
  };

  async run(): Promise<PolicyKeygenResult> {
    const { flags } = await this.parse(PolicyKeygen);
    const { generatePolicyKeyPair } = await import('../../core/policy-signing/keys.js');
    const made = generatePolicyKeyPair(resolve(flags.out));
    const result: PolicyKeygenResult = { keyId: made.keyId, privateKey: made.privateKeyFile, publicKey: made.publicKeyFile };
    if (!this.jsonEnabled()) {
      process.stdout.write(`${paint.green('Policy signing key')} ${result.keyId}\n  private: ${result.privateKey} (keep it off the fleet's hosts)\n  public:  ${result.publicKey}\n`);
    }
    return result;
  }
}
