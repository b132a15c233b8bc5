import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const POLICY = JSON.stringify({ version: 1, name: 'p', rules: [{ id: 'a', effect: 'allow', when: { name: 'kb.search' } }] });

function run(code: string, type: 'module' | 'commonjs') {
  const args = type === 'module' ? ['--input-type=module', '-e', code] : ['--input-type=commonjs', '-e', code];
  return spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
}

describe('agentguard/sdk', () => {
  it('loads from ESM', () => {
    const r = run(`import { Policy } from 'agentguard/sdk'; const p = Policy.parse(${JSON.stringify(POLICY)}); console.log(p.evaluate({ kind: 'tool', name: 'kb.search' }).effect);`, 'module');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('allow');
  });

  it('loads from CommonJS', () => {
    const r = run(`const { Policy } = require('agentguard/sdk'); const p = Policy.parse(${JSON.stringify(POLICY)}); console.log(p.evaluate({ kind: 'tool', name: 'x' }).effect);`, 'commonjs');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('deny');
  });

  it('exports only the names it lists', async () => {
    const sdk = await import('agentguard/sdk');
    expect(Object.keys(sdk).sort()).toEqual(
      [
        'AgentGuard', 'AgentGuardDeniedError', 'AgentGuardError', 'ApprovalRequiredError', 'Policy', 'PolicyError', 'SourceError',
        'isAgentGuardDeniedError', 'isAgentGuardError', 'isPolicyError', 'RedactionVault', 'decryptTokens', 'redactionVaultOf', 'GuardedOpenAI', 'GuardedAnthropic', 'GuardedAzureOpenAI',
        'SIGNATURE_HEADER', 'signWebhook', 'verifySlackSignature', 'verifyWebhookSignature', 'detect', 'redact',
      ].sort(),
    );
  });

  it('reads policies from files', async () => {
    const { Policy } = await import('agentguard/sdk');
    await expect(Policy.fromFile('/nonexistent/policy.yaml')).rejects.toThrow(/no such file/);
  });
});
