import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../../cli/data-dir.js';
import { withPinStore } from '../../../cli/mcp-pins.js';
import { AgentGuardError } from '../../../core/errors.js';
import { checkPinName, findPin, pinNotFound } from '../../../mcp/pins/names.js';

/** `--json` output: what was forgotten and how many tools. */
export interface McpPinsResetResult {
  scope: 'all' | 'server' | 'tool';
  server: string | null;
  tool: string | null;
  /** How many tools were forgotten. */
  reset: number;
}

export default class McpPinsReset extends BaseCommand {
  static summary = 'Forget MCP tool pins: of one tool, of one server, or (--all) of every server.';
  static description = `A forgotten tool is new again at its next listing, so it is blocked until approved. A forgotten server's next listing is a first listing again: it pins every tool that the description policy does not flag, as listed then (so reset a server only when you trust what it lists now). Exit codes: 0 done; 1 no such server or tool; 2 nothing named and no --all.`;
  static examples = [
    { description: 'Forget one tool', command: '<%= config.bin %> <%= command.id %> github.create_issue' },
    { description: 'Forget a server (its next listing pins again)', command: '<%= config.bin %> <%= command.id %> github' },
    { description: 'Forget every pin', command: '<%= config.bin %> <%= command.id %> --all' },
  ];

  static args = {
    name: Args.string({ required: false, description: '<server> or <server>.<tool>, as `agentguard mcp pins list` shows them.' }),
  };

  static flags = {
    all: Flags.boolean({ description: 'Forget the pins of every server.', default: false }),
    ...dataDirFlag,
  };

  async run(): Promise<McpPinsResetResult> {
    const { args, flags } = await this.parse(McpPinsReset);
    if ((args.name === undefined) === !flags.all) {
      throw new AgentGuardError('MCP_PIN_NAME_INVALID', args.name === undefined ? 'nothing to reset was named' : 'a name and --all were both given', {
        actions: ['Pass <server> or <server>.<tool> (see `agentguard mcp pins list`), or --all alone to forget every pin.'],
      });
    }
    if (args.name !== undefined) checkPinName(args.name);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const result = await withPinStore(dataDir, async (store): Promise<McpPinsResetResult> => {
      if (args.name === undefined) return { scope: 'all', server: null, tool: null, reset: store ? await store.reset() : 0 };
      const pins = store ? await store.list() : [];
      if (store && pins.some((p) => p.server === args.name)) return { scope: 'server', server: args.name, tool: null, reset: await store.reset(args.name) };
      const pin = findPin(args.name, pins);
      if (!store || !pin) throw pinNotFound(args.name, dataDir);
      return { scope: 'tool', server: pin.server, tool: pin.tool, reset: await store.reset(pin.server, pin.tool) };
    });
    if (!this.jsonEnabled()) {
      const what = result.scope === 'all' ? 'every server' : result.scope === 'server' ? result.server : `${result.server}.${result.tool}`;
      process.stdout.write(`Forgot the pins of ${what} (${result.reset} tool${result.reset === 1 ? '' : 's'}).\n`);
    }
    return result;
  }
}
