import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { CODING_AGENT_IDS } from '../hooks/agent-ids.js';

export default class Hook extends BaseCommand {
  static enableJsonFlag = false;
  static summary = "Decide one coding agent's tool call: the command its hooks run.";
  static description = `Reads the agent's hook payload (JSON) on stdin, maps the tool call or result onto the common actions (shell.exec, file.read, file.write, file.edit, web.fetch, mcp.<server>.<tool>), decides it through the project's policy (or the sidecar at $AGENTGUARD_SIDECAR_URL with $AGENTGUARD_TOKEN) and answers in the agent's own format and exit code.

Installed hooks run the lean entry bin/agentguard-hook.js, which answers the same without the CLI's start; this command is the same runtime for trying a payload by hand. Whatever breaks, the call is blocked with a message saying what to fix. AGENTGUARD_HOOK_BYPASS=1 lets calls through on purpose (warned about and recorded). See docs/coding-agents/.`;

  static examples = [
    { description: 'Ask what agentguard says about a Claude Code Bash call', command: `echo '{"hook_event_name":"PreToolUse","session_id":"s1","cwd":"/work","tool_name":"Bash","tool_input":{"command":"rm -rf /"}}' | <%= config.bin %> <%= command.id %> claude-code` },
  ];

  static args = {
    agent: Args.string({ description: 'Which coding agent sent the payload.', required: true, options: [...CODING_AGENT_IDS] }),
  };

  static flags = {
    'approval-wait': Flags.integer({ description: "Milliseconds a call the policy sends for approval waits for a person's answer, for agents that cannot ask their user (default: $AGENTGUARD_HOOK_APPROVAL_WAIT_MS, else 0: deny at once, naming the approval).", min: 0 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Hook);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const { runHook } = await import('../hooks/run-hook.js');
    const result = await runHook({
      agent: args.agent,
      stdin: Buffer.concat(chunks).toString('utf8'),
      env: process.env,
      ...(flags['approval-wait'] !== undefined ? { approvalWaitMs: flags['approval-wait'] } : {}),
    });
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.exitCode;
  }
}
