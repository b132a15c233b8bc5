// What the examples share: the agentguard CLI run as another process (as a person or a second program would run it),
// without blocking the example's own event loop while its agent waits.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

/** Runs `agentguard <args>` in a child process; resolves with its stdout, rejects with its stderr on a non-zero exit. */
export function agentguard(args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`agentguard ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** The id of the pending approval of a tool call named `name`, as a person finds it with `agentguard approvals list`. */
export async function pendingApproval(dataDir, name) {
  for (let i = 0; i < 300; i++) {
    const pending = JSON.parse(await agentguard(['approvals', 'list', '--status', 'pending', '--json', '--data-dir', dataDir]));
    const found = pending.find((a) => a.action.name === name);
    if (found) return found.id;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no approval was requested for ${name}`);
}

/** Approves it from another process, as the person would: `agentguard approvals approve <id> --by <name>`. */
export function approve(dataDir, id, by = 'team-lead') {
  return agentguard(['approvals', 'approve', id, '--by', by, '--data-dir', dataDir]);
}
