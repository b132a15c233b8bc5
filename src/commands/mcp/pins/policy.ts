import { BaseCommand } from '../../../cli/base-command.js';

/** `--json` output: the built-in description policy as a policy document. */
export type McpPinsPolicyResult = Record<string, unknown>;

const HEADER = `# yaml-language-server: $schema=../node_modules/agentguard/schemas/policy.schema.json
#
# The built-in policy that decides MCP tool definitions (agentguard mcp pins). Each tool of a tools/list result is
# decided as { kind: mcp_tool, name: <server>.<tool>, input: { text, normalized, definition },
# context: { mcp: { server, transport, listing: true, mentions?, shadows? }, session: { id } } }:
#   input.text        every string of the definition (title, description, schema texts), joined by new lines
#   input.normalized  the same after NFKC, with invisible format characters removed
#   context.mcp.mentions / shadows  tools of other servers the definition names / whose name it has
# A deny (or require_approval) flags the tool: hidden or blocked per "mcp": { "onChange" } until approved.
# To change it, save this output, edit it, and name it in agentguard.config.json: "mcp": { "descriptionPolicy": "<file>" }.
`;

export default class McpPinsPolicy extends BaseCommand {
  static summary = 'Print the built-in policy that decides MCP tool descriptions, to copy and adjust.';
  static description = 'Prints YAML (or the document as JSON with --json). Save it, edit the rules, and set "mcp": { "descriptionPolicy": "<file>" } in agentguard.config.json to use yours instead; test it with `agentguard policy test`.';
  static examples = [{ description: 'Start a project description policy', command: '<%= config.bin %> <%= command.id %> > agentguard/mcp-tools.yaml' }];

  async run(): Promise<McpPinsPolicyResult> {
    await this.parse(McpPinsPolicy);
    const [{ DESCRIPTION_POLICY_DOCUMENT }, { stringify }] = await Promise.all([import('../../../mcp/pins/description-policy.js'), import('yaml')]);
    const document = structuredClone(DESCRIPTION_POLICY_DOCUMENT) as unknown as Record<string, unknown>;
    if (!this.jsonEnabled()) process.stdout.write(`${HEADER}${stringify(document, { lineWidth: 0 })}`);
    return document;
  }
}
