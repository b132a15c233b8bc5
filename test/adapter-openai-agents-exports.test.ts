import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { makeTempDir } from './helpers/temp-dirs.js';

// Makes the frameworks look uninstalled, as in a project that never added them: an ES module resolve hook (import,
// import.meta.resolve) and the CommonJS resolver (require.resolve), both refusing the blocked packages.
function without(blocked: RegExp): string[] {
  const dir = makeTempDir('ag-no-framework-');
  const hook = join(dir, 'hook.mjs');
  writeFileSync(hook, `const blocked = ${blocked};
export async function resolve(specifier, context, next) {
  if (blocked.test(specifier)) throw Object.assign(new Error("Cannot find package '" + specifier + "'"), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}
`);
  const preload = join(dir, 'preload.cjs');
  writeFileSync(preload, `const Module = require('node:module');
const { pathToFileURL } = require('node:url');
const original = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (${blocked}.test(request)) throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
  return original.call(this, request, ...rest);
};
Module.register(pathToFileURL(${JSON.stringify(hook)}));
`);
  return ['--require', preload];
}

function run(code: string, blocked?: RegExp) {
  const args = [...(blocked ? without(blocked) : []), '--input-type=module', '-e', code];
  return spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
}

describe('agentguard/ai-sdk and agentguard/openai-agents (from dist)', () => {
  it('load through the package exports', () => {
    const r = run(`import { agentguardMiddleware, guardTools, guardToolApproval } from 'agentguard/ai-sdk';
      import * as agents from 'agentguard/openai-agents';
      import { AgentGuard } from 'agentguard/sdk';
      const guard = new AgentGuard({ policy: 'x.yaml', agentId: 'a', audit: false });
      const m = agentguardMiddleware({ guard });
      console.log(m.specificationVersion, typeof m.transformParams, typeof guardTools, typeof guardToolApproval);
      console.log(Object.keys(agents).sort().join());`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual([
      'v4 function function function',
      'AGENT_INPUT_KIND,AGENT_OUTPUT_KIND,agentguardInputGuardrail,agentguardOutputGuardrail,guardTools,guardedModelProvider,resolveApprovals',
    ]);
  });

  it.each([
    ['agentguard/ai-sdk', /^(ai|@ai-sdk\/.*)$/, 'ai'],
    ['agentguard/openai-agents', /^@openai\/agents/, '@openai/agents'],
  ])('agentguard/sdk never needs the framework; %s without it says what to install', (entry, blocked, name) => {
    const r = run(`import { detect } from 'agentguard/sdk';
      console.log((await detect('mail ana@example.com', { guardrails: ['pii'] })).map((f) => f.type).join());
      try { await import('${entry}'); console.log('loaded'); } catch (e) { console.log(e.code, '|', e.message, '|', e.actions.join()); }`, blocked);
    expect(r.stderr).toBe('');
    const [found, missing] = r.stdout.trim().split('\n');
    expect(found).toBe('EMAIL_ADDRESS');
    expect(missing).toBe(`PEER_DEPENDENCY_MISSING | ${entry} needs the "${name}" package, which is not installed | Install it next to agentguard: npm install ${name}`);
  });
});
