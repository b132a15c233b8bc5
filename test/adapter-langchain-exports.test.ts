import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { makeTempDir } from './helpers/temp-dirs.js';

// Makes the LangChain packages look uninstalled, as in a project that never added them: an ES module resolve hook
// (import, import.meta.resolve) and the CommonJS resolver (require.resolve), both refusing langchain and @langchain/*.
const BLOCKED = /^(langchain|@langchain\/)/;
function withoutLangChain(): string[] {
  const dir = makeTempDir('ag-no-langchain-');
  const hook = join(dir, 'hook.mjs');
  writeFileSync(hook, `const blocked = ${BLOCKED};
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
  if (${BLOCKED}.test(request)) throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
  return original.call(this, request, ...rest);
};
Module.register(pathToFileURL(${JSON.stringify(hook)}));
`);
  return ['--require', preload];
}

function run(code: string, options: { withoutLangChain?: boolean } = {}) {
  const args = [...(options.withoutLangChain ? withoutLangChain() : []), '--input-type=module', '-e', code];
  return spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
}

describe('agentguard/langchain (from dist)', () => {
  it('loads through the package exports and builds a LangChain middleware', () => {
    const r = run(`import { agentguardMiddleware } from 'agentguard/langchain';
      const m = agentguardMiddleware({ guard: { policy: 'x.yaml', agentId: 'a' } });
      console.log(m.name, typeof m.wrapModelCall, typeof m.wrapToolCall);`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('agentguard function function');
  });

  it('agentguard/sdk never needs LangChain; the adapter without it says what to install', () => {
    const r = run(`import { detect } from 'agentguard/sdk';
      import { agentguardMiddleware } from 'agentguard/langchain';
      console.log((await detect('mail ana@example.com', { guardrails: ['pii'] })).map((f) => f.type).join());
      try { agentguardMiddleware({ guard: { policy: 'x.yaml', agentId: 'a' } }); } catch (e) { console.log(e.code, '|', e.message, '|', e.actions.join()); }`, { withoutLangChain: true });
    expect(r.stderr).toBe('');
    const [found, missing] = r.stdout.trim().split('\n');
    expect(found).toBe('EMAIL_ADDRESS');
    expect(missing).toMatch(/^PEER_DEPENDENCY_MISSING \| agentguard\/langchain needs the "langchain" package.*\| Install it next to agentguard: npm install langchain$/);
  });
});
