import { Policy } from '../../core/policy/policy.js';

/**
 * The policy that decides tool definitions when the project names none (`mcp.descriptionPolicy`). Each `tools/list`
 * entry is decided as `{ kind: "mcp_tool", name: "<server>.<tool>", input: { text, normalized, definition }, context: { mcp } }`
 * (`text`: every string of the definition, joined; `normalized`: the same after NFKC with invisible format characters
 * removed, which the regex rules read so a zero-width space cannot split a word; built by PinGuard): a deny flags the
 * tool. Its rules are the usual marks of tool poisoning: instructions the injection
 * classifier recognises (at a lower threshold than for chat: a description is meant to be plain documentation), tags
 * that pose as system instructions, asking to keep something from the user, naming credential files, asking for the
 * conversation, credentials or file contents to be passed on, and giving instructions about another server's tools.
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
      when: { kind: 'mcp_tool', 'input.normalized': { regex: '</?\\s{0,4}(important|system|instructions?|secret|hidden|admin|assistant|context)\\b[^<>]{0,80}>', flags: 'i' } },
      message: 'the tool definition holds a tag posing as instructions (such as <IMPORTANT>)',
    },
    {
      id: 'tool-description-concealment',
      effect: 'deny',
      when: {
        kind: 'mcp_tool',
        'input.normalized': {
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
        'input.normalized': {
          regex: '(\\.ssh/|\\bid_(rsa|dsa|ecdsa|ed25519)\\b|\\.aws/credentials|\\.gnupg/|\\.kube/config|\\.netrc\\b|\\.npmrc\\b|\\.pypirc\\b|\\b(mcp|claude_desktop_config)\\.json\\b|/etc/(passwd|shadow)\\b|(~|\\$HOME|/home/[^/\\s]{1,64}|/Users/[^/\\s]{1,64})/\\.(config/(gh|gcloud|git)|docker/config|git-credentials|bash_history|zsh_history))',
          flags: 'i',
        },
      },
      message: 'the tool definition names credential, history or agent configuration files',
    },
    {
      id: 'tool-description-exfiltration',
      effect: 'deny',
      when: {
        kind: 'mcp_tool',
        any: [
          {
            'input.normalized': {
              regex: "\\b(include|pass|put|send|attach|insert|append|add|copy)\\b[^.\\n]{0,40}\\b(full output|entire output|contents? of|(conversation|chat) history|previous messages|passwords?|credentials|secrets?|private keys?|ssh keys?|system prompt)\\b[^.\\n]{0,60}\\b(argument|parameter|param|field)s?\\b",
              flags: 'i',
            },
          },
          { 'input.normalized': { regex: '\\b(send|post|upload|forward|transmit|exfiltrate|report)\\b[^.\\n]{0,80}\\bto\\s{1,4}(https?://|[\\w.+-]{1,64}@[\\w-]{1,63}\\.)', flags: 'i' } },
          { 'input.normalized': { regex: "\\b((entire|whole|full) (conversation|chat)|(conversation|chat) history|(all|every one) of (the |their |the user'?s )?(previous |prior )?messages|the user'?s (password|passwords|credentials|api keys?|private keys?|secrets?))\\b", flags: 'i' } },
        ],
      },
      message: "the tool definition asks for the conversation, credentials or files to be passed on",
    },
    {
      id: 'tool-description-invisible-characters',
      effect: 'deny',
      when: { kind: 'mcp_tool', 'input.text': { regex: '[\\u{E0000}-\\u{E007F}\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u2069\\uFEFF]', flags: 'u' } },
      message: 'the tool definition holds invisible or direction-changing characters, which can hide text from a reviewer',
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
