import type { Action, Decision } from '../../core/action.js';
import type { McpPinStore, PinFlag, SeenTool } from '../../core/mcp-pins/types.js';
import type { McpSessionInfo, McpTool, ToolListFinding, ToolListGuard } from '../hooks.js';
import type { OnChange } from './config.js';
import { definitionHash, definitionTexts, normalizedText, toolDefinition } from './definition.js';
import { mentionedTools, sameNameTools } from './shadowing.js';
import { approveCommand, verdictOf } from './verdict.js';

/** The kind of the action a tool definition is decided as (one per tool of a `tools/list` result). */
export const DEFINITION_KIND = 'mcp_tool';

export interface PinGuardOptions {
  store: McpPinStore;
  /** Decides a tool definition's action; a deny (or require_approval) flags the tool. Must not reject. */
  decide: (action: Action) => Promise<Decision>;
  onChange: OnChange;
  now?: () => Date;
}

/** The facts about one listed tool that its action carries and its findings report. */
interface Examined {
  tool: McpTool;
  seen: SeenTool;
  sameName: string[];
}

/**
 * Tool poisoning and rug pulls: pins each tool's definition at the server's first listing, flags definitions the
 * description policy denies, changed definitions, tools that appear later and tools that shadow another server's, and
 * hides or blocks them (per `onChange`) until a person approves them with `agentguard mcp pins approve`.
 */
export class PinGuard implements ToolListGuard {
  private readonly now: () => Date;

  constructor(private readonly options: PinGuardOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async checkToolList(server: string, tools: McpTool[], session: McpSessionInfo): Promise<{ tools: McpTool[]; findings: ToolListFinding[] }> {
    const others = (await this.options.store.list()).filter((p) => p.server !== server);
    const counts = new Map<string, number>();
    for (const tool of tools) if (typeof tool?.name === 'string') counts.set(tool.name, (counts.get(tool.name) ?? 0) + 1);
    const findings: ToolListFinding[] = [];
    const hide = this.options.onChange === 'hide';
    const unnamed = new Set<McpTool>();
    const named: Array<McpTool & { name: string }> = [];
    for (const tool of tools) {
      if (typeof tool?.name === 'string' && tool.name !== '') named.push(tool);
      else {
        // Nothing could call it by name, and nothing can pin it: it never reaches the client.
        unnamed.add(tool);
        findings.push({ server, tool: String(tool?.name ?? ''), type: 'invalid', message: 'a tool without a name was left out of the list', hidden: true });
      }
    }
    // Decided together, so a recording engine commits their audit records in one group rather than one by one.
    const examined: Examined[] = await Promise.all(
      named.map(async (tool) => {
        const definition = toolDefinition(tool);
        const sameName = sameNameTools(tool.name, others);
        const duplicate = (counts.get(tool.name) ?? 0) > 1 ? [{ type: 'duplicate', message: `the server lists more than one tool named ${tool.name}` }] : [];
        let texts: string[];
        let hash: string;
        try {
          texts = definitionTexts(definition);
          hash = definitionHash(definition);
        } catch (error) {
          // A definition that cannot be read whole is never pinned: it stays flagged until the server changes it.
          const flags = [{ type: 'invalid', message: `the definition cannot be checked: ${(error as Error).message}` }, ...duplicate];
          return { tool, sameName, seen: { tool: tool.name, hash: 'unreadable', definition: {}, flags } };
        }
        const mentions = mentionedTools(texts, others);
        const flags = [...(await this.definitionFlags(server, tool.name, definition, texts, { mentions, sameName }, session)), ...duplicate];
        return { tool, sameName, seen: { tool: tool.name, hash, definition, flags } };
      }),
    );
    const { pins } = await this.options.store.recordListing(server, examined.map((e) => e.seen), this.now().toISOString(), session.id);
    const withheld = new Set<McpTool>(unnamed);
    pins.forEach((pin, i) => {
      const { tool, sameName } = examined[i];
      const verdict = verdictOf(pin);
      if (verdict.state !== 'pinned') {
        if (hide) withheld.add(tool);
        const type = verdict.state === 'flagged' ? (pin.flags[0]?.type ?? 'flagged') : verdict.state;
        findings.push({ server, tool: tool.name, type, message: this.consequence(verdict.reason!), hidden: hide });
      }
      if (sameName.length > 0) {
        findings.push({
          server,
          tool: tool.name,
          type: 'shadows',
          message: `${server}.${tool.name} has the name of ${sameName.join(', ')}: a client that merges tool lists may call the wrong one`,
          hidden: withheld.has(tool),
        });
      }
    });
    return { tools: tools.filter((t) => !withheld.has(t)), findings };
  }

  async blockedTool(server: string, tool: string): Promise<string | null> {
    if (this.options.onChange === 'flag') return null;
    const pin = await this.options.store.get(server, tool);
    if (pin === null) {
      return `${server}.${tool} is not in any tool list this gateway checked, so it is not pinned; list the server's tools again (reconnect the client), then review it and run \`${approveCommand(server, tool)}\` if needed`;
    }
    return verdictOf(pin).reason;
  }

  private consequence(reason: string): string {
    const what = { hide: 'hidden from the client', block: 'calls to it are refused', flag: 'calls to it still go to the policy' }[this.options.onChange];
    return `${reason} (${what})`;
  }

  /** What the description policy finds in one definition: one flag per reason of a deny or require_approval. */
  private async definitionFlags(
    server: string,
    tool: string,
    definition: Record<string, unknown>,
    texts: string[],
    refs: { mentions: string[]; sameName: string[] },
    session: McpSessionInfo,
  ): Promise<PinFlag[]> {
    const mcp: Record<string, unknown> = { server, transport: session.transport, listing: true };
    if (refs.mentions.length > 0) mcp.mentions = refs.mentions;
    if (refs.sameName.length > 0) mcp.shadows = refs.sameName;
    const action: Action = { kind: DEFINITION_KIND, name: `${server}.${tool}`, input: { text: texts.join('\n'), normalized: normalizedText(texts.join('\n')), definition }, context: { mcp, session: { id: session.id } } };
    let decision: Decision;
    try {
      decision = await this.options.decide(action);
    } catch (error) {
      return [{ type: 'check_failed', message: `the description policy could not decide (${(error as Error)?.message ?? String(error)})` }];
    }
    if (decision.effect === 'allow' || decision.effect === 'transform') return [];
    // A rule about the tools a definition names (the built-in one, or a project's named so) reports them.
    const aboutMentions = (rule: string | undefined) => refs.mentions.length > 0 && /other-server|shadow/.test(rule ?? '');
    const flags = decision.reasons
      .filter((r) => r.effect === decision.effect)
      .map((r) => ({
        type: aboutMentions(r.rule) ? 'shadows' : 'injection',
        message: `${r.message}${aboutMentions(r.rule) ? `: ${refs.mentions.join(', ')}` : ''}${r.rule ? ` (rule ${r.rule})` : ''}`,
      }));
    return flags.length > 0 ? flags : [{ type: 'injection', message: `the description policy answered ${decision.effect}` }];
  }
}
