import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentguardEnv } from '../src/scan/process-info.js';
import { scanProcesses } from '../src/scan/processes.js';
import type { ScanOptions } from '../src/scan/types.js';
import { fakeProc } from './fixtures/scan/processes/index.js';

const root = mkdtempSync(join(tmpdir(), 'ag-secured-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TOKEN = 'agk_fixture_0123456789abcdef0123456789abcdef';
const options = (procRoot: string, pids: number[]): ScanOptions => ({
  home: join(root, 'home'), paths: [], probe: false, platform: 'linux', procRoot, probeTimeoutMs: 100, pids,
});

/**
 * Secured means configured to reach agentguard: the process loads agentguard, or its environment has a non-empty
 * AGENTGUARD_TOKEN and an http(s) AGENTGUARD_SIDECAR_URL. Anything less is unsecured, with a note saying what is missing.
 */
describe('"secured" for a process', () => {
  const cases: Array<[string, Record<string, string>, 'secured' | 'unsecured', RegExp | undefined]> = [
    ['token and sidecar URL', { AGENTGUARD_TOKEN: TOKEN, AGENTGUARD_SIDECAR_URL: 'http://127.0.0.1:7071' }, 'secured', undefined],
    ['an empty token', { AGENTGUARD_TOKEN: '', AGENTGUARD_SIDECAR_URL: 'http://127.0.0.1:7071' }, 'unsecured', /AGENTGUARD_TOKEN is empty/],
    ['a blank token', { AGENTGUARD_TOKEN: '   ', AGENTGUARD_SIDECAR_URL: 'http://127.0.0.1:7071' }, 'unsecured', /AGENTGUARD_TOKEN is empty/],
    ['a token but no sidecar URL', { AGENTGUARD_TOKEN: TOKEN }, 'unsecured', /AGENTGUARD_SIDECAR_URL is not set/],
    ['a sidecar URL but no token', { AGENTGUARD_SIDECAR_URL: 'http://127.0.0.1:7071' }, 'unsecured', /AGENTGUARD_TOKEN is not set/],
    ['a sidecar URL that is not one', { AGENTGUARD_TOKEN: TOKEN, AGENTGUARD_SIDECAR_URL: 'not a url' }, 'unsecured', /AGENTGUARD_SIDECAR_URL is not an http\(s\) URL/],
    ['another AGENTGUARD_* variable only', { AGENTGUARD_AUDIT: 'off', AGENTGUARD_DEBUG: '1' }, 'unsecured', undefined],
  ];
  cases.forEach(([label, env, status, note], n) => {
    it(`${label}: ${status}`, async () => {
      const procRoot = join(root, `proc-${n}`);
      const pid = 6100 + n;
      await fakeProc(procRoot, pid, { argv: ['claude'], env: { ANTHROPIC_API_KEY: 'x', ...env } });
      const { findings } = await scanProcesses(options(procRoot, [pid]));
      expect(findings).toHaveLength(1);
      expect(findings[0].status).toBe(status);
      if (note) expect(findings[0].notes.join('\n')).toMatch(note);
      const text = JSON.stringify(findings);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('7071');
    });
  });

  it('reads only whether the two values are usable, never keeps them', () => {
    const raw = Buffer.from(`AGENTGUARD_TOKEN=${TOKEN}\0AGENTGUARD_SIDECAR_URL=https://guard.internal:7443\0PATH=/bin\0`);
    const facts = agentguardEnv(raw);
    expect(facts).toEqual({ token: 'set', sidecarUrl: 'valid' });
    expect(JSON.stringify(facts)).not.toContain(TOKEN);
    expect(agentguardEnv(Buffer.from('AGENTGUARD_TOKEN=\0'))).toEqual({ token: 'empty', sidecarUrl: 'absent' });
  });
});
