import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertPeerInstalled } from '../src/adapters/shared/peer.js';
import { isAgentGuardError } from '../src/core/errors.js';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, { types: string; default: string }>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const installed = (name: string) => (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('agentguard/ai-sdk and agentguard/openai-agents packaging', () => {
  it.each([
    ['./ai-sdk', 'ai', 'ai-sdk'],
    ['./openai-agents', '@openai/agents', 'openai-agents'],
  ])('%s is exported from dist with its types, and %s is an optional peer whose range holds the tested version', (subpath, peer, dir) => {
    expect(pkg.exports[subpath]).toEqual({ types: `./dist/adapters/${dir}/index.d.ts`, default: `./dist/adapters/${dir}/index.js` });
    expect(pkg.peerDependenciesMeta[peer]).toEqual({ optional: true });
    const [major, minor] = installed(peer).split('.').map(Number);
    const range = pkg.peerDependencies[peer]!;
    // ^7.0.173 and >=0.20.0 <0.21.0: the major (for 0.x the minor) the adapter was tested with.
    expect(range).toMatch(major === 0 ? new RegExp(`^>=0\\.${minor}\\.\\d+ <0\\.${minor! + 1}\\.0$`) : new RegExp(`^\\^${major}\\.`));
    expect(readFileSync(join(root, 'src', 'adapters', dir, 'index.ts'), 'utf8')).toContain(`assertPeerInstalled('${peer}', 'agentguard/${dir}')`);
  });

  it('a missing framework is a clear error naming the package to install', () => {
    let error: unknown;
    try {
      assertPeerInstalled('agentguard-test-no-such-framework', 'agentguard/ai-sdk');
    } catch (e) {
      error = e;
    }
    expect(isAgentGuardError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'PEER_DEPENDENCY_MISSING', message: 'agentguard/ai-sdk needs the "agentguard-test-no-such-framework" package, which is not installed' });
    expect((error as { actions: string[] }).actions).toEqual(['Install it next to agentguard: npm install agentguard-test-no-such-framework']);
    expect(() => assertPeerInstalled('ai', 'agentguard/ai-sdk')).not.toThrow();
  });

  it('agentguard/sdk and the engine never load a framework: only the adapters import them, and only as types or lazily', () => {
    const frameworks = /from '(ai|ai\/[^']+|@ai-sdk\/[^']+|@openai\/agents[^']*|langchain[^']*|@langchain\/[^']+)'/;
    const offenders = [...files(join(root, 'src', 'sdk')), ...files(join(root, 'src', 'core'))].filter((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .some((line) => frameworks.test(line) && !/^\s*import type /.test(line)),
    );
    expect(offenders).toEqual([]);
    // The adapters load @openai/agents at run time only through loadPeer (first use), never with a static import.
    const agents = files(join(root, 'src', 'adapters', 'openai-agents')).filter((file) => /^import (?!type )[^;]*from '@openai\/agents'/m.test(readFileSync(file, 'utf8')));
    expect(agents).toEqual([]);
  });
});
