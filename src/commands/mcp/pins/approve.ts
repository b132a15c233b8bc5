import { Args } from '@oclif/core';
import { BaseCommand } from '../../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../../cli/data-dir.js';
import { withPinStore } from '../../../cli/mcp-pins.js';
import { paint } from '../../../cli/style.js';
import { checkPinName, findPin, pinNotFound } from '../../../mcp/pins/names.js';
import { verdictOf, type PinState } from '../../../mcp/pins/verdict.js';

/** `--json` output: the tool approved, the hash now pinned, and where it stood before. */
export interface McpPinsApproveResult {
  server: string;
  tool: string;
  pinnedHash: string;
  pinnedAt: string;
  previousState: PinState;
  /** What was flagged in the definition approved (approving accepts it). */
  flags: Array<{ type: string; message: string }>;
}

export default class McpPinsApprove extends BaseCommand {
  static summary = 'Trust an MCP tool as it was last listed: pins its current description and schema.';
  static description = `Pins the definition the gateway saw at the tool's last listing (shown by \`agentguard mcp pins list\`), so a changed, new or flagged tool is listed and callable again. Running gateways see the approval at the tool's next call. Exit codes: 0 approved; 1 no such tool; 2 the name cannot be used.`;
  static examples = [{ description: 'Approve the changed description of a GitHub tool', command: '<%= config.bin %> <%= command.id %> github.create_issue' }];

  static args = {
    name: Args.string({ required: true, description: '<server>.<tool>, as `agentguard mcp pins list` shows it.' }),
  };

  static flags = { ...dataDirFlag };

  async run(): Promise<McpPinsApproveResult> {
    const { args, flags } = await this.parse(McpPinsApprove);
    checkPinName(args.name);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const result = await withPinStore(dataDir, async (store) => {
      const pin = store ? findPin(args.name, await store.list()) : undefined;
      if (!store || !pin) throw pinNotFound(args.name, dataDir);
      const previousState = verdictOf(pin).state;
      const approved = await store.approve(pin.server, pin.tool, new Date().toISOString());
      if (!approved) throw pinNotFound(args.name, dataDir); // reset by another process meanwhile
      return { server: approved.server, tool: approved.tool, pinnedHash: approved.pinnedHash!, pinnedAt: approved.pinnedAt!, previousState, flags: approved.flags };
    });
    if (!this.jsonEnabled()) {
      const was = result.previousState === 'pinned' ? 'it was already pinned as listed' : `it was ${result.previousState}`;
      process.stdout.write(`${paint.green(`Approved ${result.server}.${result.tool}`)} (${was}); pinned ${result.pinnedHash}.\n`);
      if (result.flags.length > 0) this.note(`Approved despite: ${result.flags.map((f) => f.message).join('; ')}.`);
    }
    return result;
  }
}
