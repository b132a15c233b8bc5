// A coding agent on the OpenAI Agents SDK (@openai/agents 0.20) with agentguard: model calls through
// guardedModelProvider, tools through guardTools, agent input/output guardrails, and approvals through the SDK's
// interruptions. It runs offline against a fake OpenAI-compatible provider and shows an allowed call, a redaction, a
// denied tool call and an approval granted from another process.
//   npm run example coding-agent-openai-agents      (or: npm run build && node examples/coding-agent-openai-agents)
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Agent, Runner, tool } from '@openai/agents';
import { z } from 'zod';
import { AgentGuard } from 'agentguard/sdk';
import { agentguardInputGuardrail, agentguardOutputGuardrail, guardedModelProvider, guardTools, resolveApprovals } from 'agentguard/openai-agents';
import { startFakeOpenAI } from '../../demo/fake-openai.js';

const here = dirname(fileURLToPath(import.meta.url));
// This folder is the example's project: agentguard.config.json here gives each decision's guardrails a 5 s budget
// (the first decisions load the guardrails, which can take longer than the default 250 ms on a busy machine).
process.chdir(here);
const cli = join(here, '..', '..', 'bin', 'run.js');

// The fake model: runs the command named in the last user turn, else answers in words.
function answer(body) {
  const last = body.messages.at(-1);
  if (last.role === 'tool') return { content: `Result: ${String(last.content).slice(0, 90)}` };
  const asked = String(last.content);
  const command = /run `([^`]+)`/.exec(asked)?.[1];
  if (command) return { tool_calls: [{ id: `call_${body.messages.length}`, type: 'function', function: { name: 'run_command', arguments: JSON.stringify({ command }) } }] };
  return { content: 'Use `git rebase -i` to squash commits.' };
}

const provider = await startFakeOpenAI({ answer });
const dataDir = await mkdtemp(join(tmpdir(), 'agentguard-coding-agent-'));
const guard = new AgentGuard({ policy: join(here, 'policy.yaml'), agentId: 'coding-agent', dataDir });
const ran = [];
try {
  const runner = new Runner({
    modelProvider: guardedModelProvider({ guard, openAI: { apiKey: 'sk-fake', baseURL: provider.baseURL }, useResponses: false }),
    tracingDisabled: true,
  });
  const runCommand = tool({
    name: 'run_command',
    description: 'Run a shell command in the repository',
    parameters: z.object({ command: z.string() }),
    execute: async ({ command }) => (ran.push(command), `$ ${command}\nok`),
  });
  const agent = new Agent({
    name: 'coding-agent',
    instructions: 'You help with this repository.',
    model: 'gpt-4o-mini',
    tools: guardTools([runCommand], { guard, session: 'task-1' }),
    inputGuardrails: [agentguardInputGuardrail({ guard })],
    outputGuardrails: [agentguardOutputGuardrail({ guard })],
  });

  // 1. An allowed call, with a redaction: the e-mail address in the question is not sent to the provider.
  const first = await runner.run(agent, 'I am dev@team.example: how do I squash commits?');
  console.log(`allowed:   ${first.finalOutput}`);
  console.log(`redacted:  the provider received ${JSON.stringify(provider.requests[0].messages.at(-1).content)}`);

  // 2. An allowed tool call.
  const tests = await runner.run(agent, 'Please run `npm test`.');
  console.log(`tool:      ${tests.finalOutput.replace(/\n/g, ' ')}`);

  // 3. A denied tool call: rm -rf never runs; the SDK's tool guardrail hands the model the policy's reason.
  const denied = await runner.run(agent, 'Clean up: run `rm -rf build`.');
  console.log(`denied:    rm -rf did not run; the agent said: ${denied.finalOutput}`);

  // 4. An approval: git push interrupts the run; a reviewer approves it from another process (the agentguard CLI).
  const paused = await runner.run(agent, 'Ship it: run `git push origin main`.');
  const [interruption] = paused.interruptions;
  const listed = JSON.parse((await promisify(execFile)(process.execPath, [cli, 'approvals', 'list', '--json', '--data-dir', dataDir])).stdout);
  const pending = listed.find((approval) => approval.status === 'pending');
  console.log(`approval:  ${interruption.name} paused, waiting for ${pending.id}`);
  await promisify(execFile)(process.execPath, [cli, 'approvals', 'approve', pending.id, '--by', 'reviewer', '--data-dir', dataDir]);
  await resolveApprovals(paused, { guard });
  const resumed = await runner.run(agent, paused.state);
  console.log(`approved:  ${resumed.finalOutput.replace(/\n/g, ' ')}`);
  console.log(`commands that ran: ${ran.join(', ')}`);
  if (ran.join('|') !== 'npm test|git push origin main' || provider.requests.some((r) => JSON.stringify(r).includes('dev@team.example'))) process.exitCode = 1;
} finally {
  await guard.close();
  await provider.close();
  await rm(dataDir, { recursive: true, force: true });
}
