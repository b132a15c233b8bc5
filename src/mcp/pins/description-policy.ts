import { Policy } from '../../core/policy/policy.js';

/**
 * The policy that decides tool definitions when the project names none (`mcp.descriptionPolicy`). Each `tools/list`
 * entry is decided as `{ kind: "mcp_tool", name: "<server>.<tool>", input: { text, definition }, context: { mcp } }`
 * (see toolAction): a deny flags the tool. Its rules are the usual marks of tool poisoning: instructions the injection
 * classifier recognises (at a lower threshold than for chat: a description is meant to be plain documentation), tags
 * that pose as system instructions, asking to keep something from the user, naming credential files, and giving
 * instructions about another server's tools.
 */
export const DESCRIPTION_POLICY_DOCUMENT = {
  version: 1,
  name: 'mcp-tool-descriptions',
  description: 'Flags MCP tool definitions (descriptions, titles, schemas) that carry instructions for the model.',
  default: 'allow',
  guardrails: {
    'tool-injection': { use: 'injection', config: { threshold: 0.45 } },
  },
  rules: [
    {
      id: 'tool-description-injection',
      effect: 'deny',
      when: { kind: 'mcp_tool', detect: { guardrail: 'tool-injection', in: 'input.text' } },
      message: 'the tool definition reads as instructions to the model (prompt injection)',
    },
    {
      id: 'tool-description-instruction-tags',
      effect: 'deny',
      when: { kind: 'mcp_tool', 'input.text': { regex: '</?\\s{0,4}(important|system|instructions?|secret|hidden|admin|assistant|context)\\b[^<>]{0,80}>', flags: 'i' } },
      message: 'the tool definition holds a tag posing as instructions (such as <IMPORTANT>)',
    },
    {
      id: 'tool-description-concealment',
      effect: 'deny',
      when: {
        kind: 'mcp_tool',
        'input.text': {
          regex: "\\b(do\\s+not|don'?t|never|without)\\s+(tell|telling|mention|mentioning|inform|informing|reveal|revealing|notify|notifying|show|showing|alert|alerting)\\b[^.\\n]{0,60}\\b(user|human|operator)s?\\b",
          flags: 'i',
        },
      },
      message: 'the tool definition asks to keep something from the user',
    },
    {
      id: 'tool-description-credentials',
      effect: 'deny',
      when: {
        kind: 'mcp_tool',
        'input.text': {
          regex: '(\\.ssh/|\\bid_(rsa|dsa|ecdsa|ed25519)\\b|\\.aws/credentials|\\.gnupg/|\\.kube/config|\\.netrc\\b|\\.npmrc\\b|\\.pypirc\\b|\\b(mcp|claude_desktop_config)\\.json\\b|/etc/(passwd|shadow)\\b)',
          flags: 'i',
        },
      },
      message: 'the tool definition names credential or agent configuration files',
    },
    {
      id: 'tool-description-names-other-servers-tools',
      effect: 'deny',
      when: { kind: 'mcp_tool', 'context.mcp.mentions': { exists: true } },
      message: "the tool definition names another server's tools (shadowing)",
    },
  ],
} as const;

/** The built-in description policy, compiled (its regexes checked for catastrophic backtracking). */
export async function builtInDescriptionPolicy(): Promise<Policy> {
  const policy = Policy.parse(structuredClone(DESCRIPTION_POLICY_DOCUMENT) as unknown as Record<string, unknown>, { filename: '<built-in mcp-tool-descriptions>' });
  await policy.assertRegexesSafe();
  return policy;
}
