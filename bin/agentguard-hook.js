#!/usr/bin/env node
// The command coding agents' hooks run before and after every tool call: `agentguard-hook.js <agent-id>` with the
// agent's JSON payload on stdin. It loads only what deciding needs (no oclif), so a tool call does not pay the CLI's
// start. Whatever goes wrong, the call is blocked in the agent's own format.
// `agentguard-hook.js --daemon <socket> <project>` is the hook decision daemon a hook starts in the background
// (src/hooks/daemon/): it keeps the project's engine open so the next hooks ask it instead of loading it.
const agent = process.argv[2] ?? '';

function brokenInstall(message) {
  const text = `agentguard blocked this call: the hook cannot run (${message}). Reinstall agentguard (npm install agentguard) or run \`agentguard hooks status\`; to let tool calls through without agentguard on purpose, set AGENTGUARD_HOOK_BYPASS=1.`;
  // Copilot CLI and Cursor skip a hook that exits non-zero, so they get a JSON deny; the others block on exit code 2.
  if (agent === 'copilot-cli') return { stdout: `${JSON.stringify({ permissionDecision: 'deny', permissionDecisionReason: text })}\n`, stderr: `${text}\n`, exitCode: 0 };
  if (agent === 'cursor') return { stdout: `${JSON.stringify({ permission: 'deny', user_message: text, agent_message: text })}\n`, stderr: `${text}\n`, exitCode: 0 };
  return { stdout: '', stderr: `${text}\n`, exitCode: 2 };
}

async function daemon() {
  const [{ runDaemon }, { readFileSync }] = await Promise.all([import('../dist/hooks/daemon/server.js'), import('node:fs')]);
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.title = 'agentguard-hook-daemon';
  await runDaemon({ socket: process.argv[3], projectDir: process.argv[4], env: process.env, version });
}

async function hook() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);

  let result;
  try {
    const { runHook } = await import('../dist/hooks/run-hook.js');
    result = await runHook({ agent, stdin: Buffer.concat(chunks).toString('utf8'), env: process.env });
  } catch (error) {
    result = brokenInstall(error instanceof Error ? error.message : String(error));
  }

  // Exit once both streams are flushed, without waiting for timers or sockets a failed decision may have left behind.
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(result.exitCode);
  };
  process.stdout.write(result.stdout, done);
  process.stderr.write(result.stderr, done);
}

if (agent === '--daemon') await daemon();
else await hook();
