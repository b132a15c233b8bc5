import { Flags } from '@oclif/core';
import { BaseCommand } from '../../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../../cli/data-dir.js';
import { withPinStore } from '../../../cli/mcp-pins.js';
import { paint } from '../../../cli/style.js';
import { renderTable } from '../../../cli/table.js';
import type { McpPin } from '../../../core/mcp-pins/types.js';
import { verdictOf, type PinState } from '../../../mcp/pins/verdict.js';

/** One tool as listed. Times are ISO 8601 UTC; hashes are `sha256:<hex>` of the canonical JSON of the definition. */
export interface McpPinsListEntry {
  server: string;
  tool: string;
  /** pinned: listed as pinned; changed: differs from the pin; new: appeared after the first listing; flagged: the description policy denied it. */
  state: PinState;
  /** Why it is not trusted, with the command that approves it; null when pinned. */
  reason: string | null;
  pinnedHash: string | null;
  pinnedAt: string | null;
  pinnedBy: 'first-sight' | 'approved' | null;
  seenHash: string;
  seenAt: string;
  flags: Array<{ type: string; message: string }>;
}

/** `--json` output: every tool listed through the gateway, by server then tool. */
export type McpPinsListResult = McpPinsListEntry[];

const STATE_PAINT: Record<PinState, (text: string) => string> = { pinned: paint.green, changed: paint.red, new: paint.yellow, flagged: paint.red };

export default class McpPinsList extends BaseCommand {
  static summary = 'List the MCP tools the gateway has seen: pinned, changed since pinned, new, or flagged as poisoned.';
  static description = `Each tool's description, title, schemas and annotations are pinned by hash at its server's first listing through \`agentguard mcp wrap\`. A tool that changed since, appeared later, or that the description policy flagged is hidden or blocked (agentguard.config.json "mcp": { "onChange": "hide" | "block" | "flag" }, default block) until approved with \`agentguard mcp pins approve <server>.<tool>\`.`;
  static examples = [
    { description: 'Every tool', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'The tools of one server, as JSON', command: '<%= config.bin %> <%= command.id %> --server github --json' },
  ];

  static flags = {
    server: Flags.string({ description: 'Only the tools of this server (the --name given to `agentguard mcp wrap`).', helpValue: '<name>' }),
    ...dataDirFlag,
  };

  async run(): Promise<McpPinsListResult> {
    const { flags } = await this.parse(McpPinsList);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const pins = await withPinStore(dataDir, async (store) => (store ? store.list(flags.server === undefined ? {} : { server: flags.server }) : []));
    const result = pins.map(toEntry);
    if (!this.jsonEnabled()) {
      if (result.length === 0) {
        this.note(`No MCP tools ${flags.server === undefined ? '' : `of ${flags.server} `}were listed through agentguard with ${dataDir}. Tools are pinned when a client lists them through \`agentguard mcp wrap\`.`);
      } else {
        process.stdout.write(renderPins(result));
        const waiting = result.filter((e) => e.state !== 'pinned');
        if (waiting.length > 0) this.note(`${waiting.length} tool(s) wait for review; approve one with \`agentguard mcp pins approve <server>.<tool>\`.`);
      }
    }
    return result;
  }
}

function toEntry(pin: McpPin): McpPinsListEntry {
  const verdict = verdictOf(pin);
  return {
    server: pin.server,
    tool: pin.tool,
    state: verdict.state,
    reason: verdict.reason,
    pinnedHash: pin.pinnedHash,
    pinnedAt: pin.pinnedAt,
    pinnedBy: pin.pinnedBy,
    seenHash: pin.seenHash,
    seenAt: pin.seenAt,
    flags: pin.flags.map((f) => ({ type: f.type, message: f.message })),
  };
}

function minute(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function renderPins(entries: McpPinsListEntry[]): string {
  const heading = ['SERVER', 'TOOL', 'STATE', 'PINNED (UTC)', 'BY', 'LAST SEEN', 'FLAGS'];
  const rows = entries.map((e) => [e.server, e.tool, STATE_PAINT[e.state](e.state), minute(e.pinnedAt), e.pinnedBy ?? '-', minute(e.seenAt), e.flags.map((f) => f.type).join(', ') || '-']);
  return renderTable(heading, rows);
}
