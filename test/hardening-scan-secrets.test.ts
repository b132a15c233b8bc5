import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { renderScan } from '../src/cli/scan-render.js';
import { canonicalHash } from '../src/core/canonical-json.js';
import { maskArgv, maskText } from '../src/core/agents/report-mask.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { toCycloneDx } from '../src/scan/cyclonedx.js';
import { scanMcpConfigs } from '../src/scan/mcp/index.js';
import { maskScanResult, runScan, type ScanResult } from '../src/scan/run-scan.js';
import type { ScanFinding, ScanOptions } from '../src/scan/types.js';
import { diffScans } from '../src/scan/watch-events.js';
import { fakeProc } from './fixtures/scan/processes/index.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ag-'));
  roots.push(dir);
  return dir;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split('');
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.split('');
/** `n` characters of `alphabet` drawn from a digest of the seed: key material as random as real keys (shrinking keeps it so). */
const chars = (alphabet: string[], n: number) =>
  fc.integer().map((seed) => {
    let out = '';
    for (let i = 0; out.length < n; i++) {
      for (const byte of createHash('sha256').update(`${seed}:${i}`).digest()) if (out.length < n) out += alphabet[byte % alphabet.length];
    }
    return out;
  });
const random = (n: number) => chars(BASE62, n).map((s) => `${s.slice(0, -2)}7q`);

/** Secrets in documented vendor shapes, which must be masked wherever they appear. */
const vendorToken = fc.oneof(
  random(36).map((s) => `ghp_${s}`),
  random(48).map((s) => `sk-proj-${s}`),
  random(24).map((s) => `sk-ak-${s}`),
  random(64).map((s) => `sk-or-v1-${s}`),
  chars(UPPER, 16).map((s) => `AKIA${s}`),
  random(24).map((s) => `xoxb-1234567890-${s}`),
  random(20).map((s) => `glpat-${s}`),
  random(34).map((s) => `hf_${s}`),
);
/** Any literal value: masked when it sits under a secret name (flag, variable, header, JSON key). */
const namedValue = fc.oneof(random(14), fc.constantFrom('summer2024', 'hunter2hunter2', 'Tr0ub4dor&3-x'));

interface Secrets {
  tokens: string[];
  named: string[];
  pathKey: string;
}

const secretsArb: fc.Arbitrary<Secrets> = fc.record({
  tokens: fc.array(vendorToken, { minLength: 6, maxLength: 6 }),
  named: fc.array(namedValue, { minLength: 8, maxLength: 8 }),
  pathKey: random(32),
});

/** An MCP config entry with a secret in every field a user can write. */
function mcpConfig(s: Secrets): object {
  const [t0, t1, t2, t3, t4, t5] = s.tokens;
  const [n0, n1, n2, n3, n4, n5, n6, n7] = s.named;
  return {
    mcpServers: {
      [`srv-${t0}`]: {
        command: `npx -y some-mcp --api-key ${t1}`,
        args: ['--pat', n0, `--key=${n1}`, JSON.stringify({ apiKey: n2, nested: { token: n3 } }), `https://x.example.com/${t2}/sse`, t3, '-e', `GH_PAT=${n4}`],
        env: { GH_PAT: t4, DATABASE_URL: `postgres://app:${n5}@db.example.com:5432/app`, PGPASSWORD: n6 },
        headers: { Authorization: `Bearer ${n7}` },
      },
      remote: { url: `https://user:${n7}@actions.example.com/mcp/${s.pathKey}/sse?api_key=${n6}#${t5}` },
      zapier: { url: `http://mcp.example.com/${t5}/sse` },
    },
  };
}

async function writeFixture(root: string, s: Secrets): Promise<ScanOptions> {
  const home = join(root, 'home');
  mkdirSync(join(home, '.cursor'), { recursive: true });
  writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify(mcpConfig(s)));
  const proc = join(root, 'proc');
  const [t0, t1] = s.tokens;
  const [n0, n1, n2, n3] = s.named;
  await fakeProc(proc, 5101, {
    argv: ['/usr/local/bin/uvx', 'mcp-server-fetch', '--api-key', t0, `--token=${n0}`, '--pat', n1, '--key', n2, JSON.stringify({ apiKey: n3 }), `https://x.example.com/mcp/${s.pathKey}/sse`, `npx -y some-mcp --api-key ${t1}`],
    env: { OPENAI_API_KEY: n0, GH_PAT: t1 },
  });
  // Paths can hold a token too (a checkout named after one): the working folder and the executable.
  await fakeProc(proc, 5102, { argv: ['claude', `--api-key=${t1}`, `OPENAI_API_KEY=${n2}`], env: { ANTHROPIC_API_KEY: t0 }, cwd: join(root, 'work', t0), exe: join(root, 'bin', t1, 'claude') });
  return { home, paths: [], probe: false, platform: 'linux', procRoot: proc, probeTimeoutMs: 100, pids: [5101, 5102] };
}

const allSecrets = (s: Secrets) => [...s.tokens, ...s.named, s.pathKey];

function expectNoSecret(text: string, s: Secrets, where: string): void {
  for (const secret of allSecrets(s)) {
    if (text.includes(secret)) throw new Error(`${where} shows the secret ${secret}:\n${text.slice(Math.max(0, text.indexOf(secret) - 200), text.indexOf(secret) + 100)}`);
  }
}

/** Every output a scan has: the table, --format json, CycloneDX, --watch events and the registry (as `agents show` reads it). */
async function everyOutput(result: ScanResult, root: string): Promise<Record<string, string>> {
  const store = SqliteStore.open(join(root, `registry-${Math.random().toString(36).slice(2)}.db`));
  try {
    await store.agents.upsertFromScan(result.findings, result.startedAt);
    const registry = JSON.stringify(await store.agents.list({ includeDeregistered: true }));
    return {
      table: renderScan(result),
      json: JSON.stringify(maskScanResult(result)),
      cyclonedx: JSON.stringify(await toCycloneDx(result.findings, { toolVersion: '0.0.0', timestamp: new Date(0) })),
      watch: JSON.stringify(diffScans([], result.findings, result.startedAt)),
      registry,
    };
  } finally {
    await store.close();
  }
}

describe('scan output never holds a secret (property)', () => {
  it('secrets placed in every field of an MCP config and a process reach no output format nor the registry', async () => {
    await fc.assert(
      fc.asyncProperty(secretsArb, async (s) => {
        const root = tempRoot();
        const result = await runScan(await writeFixture(root, s));
        expect(result.findings.filter((f) => f.kind === 'mcp-server')).toHaveLength(3);
        expect(result.findings.some((f) => f.details.pid === 5101)).toBe(true);
        for (const [where, text] of Object.entries(await everyOutput(result, root))) expectNoSecret(text, s, where);
        rmSync(root, { recursive: true, force: true });
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  it('each boundary masks on its own: findings that were never masked still leave no secret in any output', async () => {
    await fc.assert(
      fc.asyncProperty(secretsArb, async (s) => {
        const [t0, t1, t2] = s.tokens;
        const [n0, n1] = s.named;
        const raw: ScanFinding = {
          id: `mcp:cursor:/h/.cursor/mcp.json#srv-${t0}`,
          kind: 'mcp-server',
          name: `srv-${t0}`,
          frameworks: [],
          location: `http://mcp.example.com/${t1}/sse`,
          status: 'unknown',
          risk: 'high',
          evidence: [`--api-key ${t2}`],
          notes: [`plain-HTTP remote: https://actions.example.com/mcp/${s.pathKey}/sse is not encrypted`],
          details: { command: `npx -y x --api-key ${t1}`, args: ['--pat', n0, JSON.stringify({ apiKey: n1 })], url: `http://mcp.example.com/${t2}/sse`, path: `/x/${t0}` },
        };
        const result: ScanResult = {
          startedAt: '2026-01-01T00:00:00.000Z',
          durationMs: 1,
          findings: [raw],
          skipped: [{ what: `/x/${t1}/mcp.json`, reason: `malformed near "${t2}"` }],
          summary: { total: 1, secured: 0, unsecured: 0, unknown: 1, byRisk: { high: 1, medium: 0, low: 0, info: 0 } },
          completeKinds: [],
          notInspected: [],
        };
        const root = tempRoot();
        for (const [where, text] of Object.entries(await everyOutput(result, root))) {
          if (where === 'watch') continue; // --watch prints masked findings only (the JSON and table paths are masked above it)
          expectNoSecret(text, s, where);
        }
        rmSync(root, { recursive: true, force: true });
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});

describe('the masking of report text', () => {
  const gh = 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
  it('masks secrets in URL paths, command strings, flag values, JSON blobs and env assignments', () => {
    expect(maskText(`http://mcp.example.com/${gh}/sse`)).toBe('http://mcp.example.com/***/sse');
    expect(maskText('https://actions.zapier.com/mcp/sk-ak-9fKq2LmZp81XyR4tBv7Nw3/sse')).toBe('https://actions.zapier.com/mcp/***/sse');
    expect(maskText('npx -y some-mcp --api-key sk-proj-Abc123Def456Ghi789Jkl012Mno345')).toBe('npx -y some-mcp --api-key ***');
    expect(maskText('{"apiKey":"summer2024","port":8080}')).toBe('{"apiKey":"***","port":8080}');
    expect(maskText('DATABASE_URL=postgres://app:pw@db.example.com/app')).toBe('DATABASE_URL=postgres://***@db.example.com/app');
    expect(maskText(`GH_PAT=${gh}`)).toBe('GH_PAT=***');
    expect(maskArgv(['--pat', 'abc123xyz', '--key', 'zzz', '--max-tokens', '4096', '--token=foo', '--key-file', '/etc/k.pem'])).toEqual([
      '--pat', '***', '--key', '***', '--max-tokens', '4096', '--token=***', '--key-file', '/etc/k.pem',
    ]);
  });

  it('keeps what is not a secret readable, and masking twice changes nothing', () => {
    for (const text of [
      'unpinned package: npx runs @modelcontextprotocol/server-github without an exact version, so each start may fetch new code',
      'GET http://127.0.0.1:11434/api/tags → 200 {"models":[3]}',
      '~/.cursor/mcp.json: mcpServers.github',
      'https://h.example.com/mcp?region=eu',
      'secret in the config: env.OPENAI_API_KEY is written in the config (use an environment variable reference instead)',
      'Authorization: ${AUTH_HEADER}',
    ]) {
      expect(maskText(text)).toBe(text);
    }
    const once = maskText(`curl -H "Authorization: Bearer x9Yz7Qw2" https://u:p@h/${gh}?token=abc --pat q1w2e3r4`);
    expect(once).not.toMatch(/x9Yz7Qw2|ghp_|q1w2e3r4|u:p@/);
    expect(maskText(once)).toBe(once);
  });
});

describe('secret notes for env and args', () => {
  it('DATABASE_URL with a password and GH_PAT with a token get a secret-in-config note, named but never shown', async () => {
    const root = tempRoot();
    const home = join(root, 'home');
    mkdirSync(join(home, '.cursor'), { recursive: true });
    writeFileSync(
      join(home, '.cursor', 'mcp.json'),
      JSON.stringify({
        mcpServers: {
          db: { command: 'node', args: ['db.js'], env: { DATABASE_URL: 'postgres://app:s3cretPw@db.example.com/app', GH_PAT: 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8' } },
          one: { command: 'npx -y some-mcp --api-key sk-proj-Abc123Def456Ghi789Jkl012Mno345', args: ['--pat', 'abc123xyz', '{"apiKey":"summer2024"}'] },
        },
      }),
    );
    const result = await scanMcpConfigs({ home, paths: [], probe: false, platform: 'linux', procRoot: '/proc', probeTimeoutMs: 100 });
    const db = result.findings.find((f) => f.name.startsWith('db '))!;
    expect(db.notes).toEqual(expect.arrayContaining([expect.stringContaining('env.DATABASE_URL'), expect.stringContaining('env.GH_PAT')]));
    const one = result.findings.find((f) => f.name.startsWith('one '))!;
    expect(one.notes).toEqual(expect.arrayContaining([expect.stringContaining('command'), expect.stringContaining('args[1] (--pat)'), expect.stringContaining('args[2] (JSON)')]));
    expect(JSON.stringify(result)).not.toMatch(/s3cretPw|ghp_A1b2|sk-proj-Abc|abc123xyz|summer2024/);
  });
});

describe('contentHash cannot be reversed to a secret by guessing', () => {
  it('is keyed: hashing candidate entries with a word list never finds it, and it still changes when the entry changes', async () => {
    const root = tempRoot();
    const home = join(root, 'home');
    mkdirSync(join(home, '.cursor'), { recursive: true });
    const entry = (pw: string) => ({ command: 'psql-mcp', args: [], env: { PGPASSWORD: pw } });
    const write = (pw: string) => writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { pg: entry(pw) } }));
    const scan = async () => (await scanMcpConfigs({ home, paths: [], probe: false, platform: 'linux', procRoot: '/proc', probeTimeoutMs: 100 })).findings[0].details.contentHash;
    write('summer2024');
    const hash = await scan();
    const guesses = ['password', '123456', 'letmein', 'qwerty', 'admin', 'welcome', 'summer2023', 'summer2024', 'winter2024'];
    for (const guess of guesses) expect(canonicalHash(entry(guess))).not.toBe(hash);
    expect(String(hash)).not.toBe(canonicalHash(entry('summer2024')));
    expect(await scan()).toBe(hash);
    write('summer2025');
    expect(await scan()).not.toBe(hash);
  });
});

describe('a whole command line written in "command"', () => {
  it('is judged like command + args: an unpinned npx package in it is reported', async () => {
    const root = tempRoot();
    const home = join(root, 'home');
    mkdirSync(join(home, '.cursor'), { recursive: true });
    writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { one: { command: 'npx -y @acme/some-mcp --api-key sk-proj-Abc123Def456Ghi789Jkl012Mno345' } } }));
    const [finding] = (await scanMcpConfigs({ home, paths: [], probe: false, platform: 'linux', procRoot: '/proc', probeTimeoutMs: 100 })).findings;
    expect(finding.notes).toContain('unpinned package: npx runs @acme/some-mcp without an exact version, so each start may fetch new code');
    expect(finding.details.command).toBe('npx -y @acme/some-mcp --api-key ***');
  });
});

describe('masking is idempotent (it runs at collection and again at every output)', () => {
  const word = fc.oneof(
    fc.constantFrom('--api-key', '--pat', '--key', '--token=', 'Authorization:', 'Bearer', 'GH_PAT=', 'npx', '-y', 'https://', 'user:pw@', '/sse', '?token=', '{"apiKey":', '"', '}', ' ', '='),
    vendorToken,
    namedValue,
    fc.string({ maxLength: 12 }),
  );
  it('masking a masked text changes nothing, for any mix of flags, URLs, JSON and secrets', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 12 }), fc.constantFrom(' ', '', '/'), (words, sep) => {
        const once = maskText(words.join(sep));
        expect(maskText(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });
});

describe('a vendor-shaped token is masked wherever it sits', () => {
  it('between any words and separators, in any position', () => {
    const filler = fc.oneof(fc.constantFrom('--api-key', 'https://h.example.com', 'path', '{"a":', 'x=', 'Bearer', '@', ''), fc.string({ maxLength: 10 }));
    const sep = fc.constantFrom(' ', '/', '=', ':', '"', "'", ',', '?', '&', '\n', '(', '[');
    fc.assert(
      fc.property(fc.array(filler, { maxLength: 5 }), sep, vendorToken, sep, fc.array(filler, { maxLength: 5 }), (before, s1, token, s2, after) => {
        const text = `${before.join(' ')}${s1}${token}${s2}${after.join(' ')}`;
        expect(maskText(text)).not.toContain(token);
      }),
      { numRuns: 500 },
    );
  });
});

describe('masking JSON found in a scan', () => {
  it('keeps a __proto__ key in the report and masks the secret under it', () => {
    const out = maskText('{"__proto__": {"api_key": "sk-live-abcdefghijklmnopqrstuvwx"}, "b": 1}');
    expect(out).toContain('"__proto__"');
    expect(out).not.toContain('abcdefghijklmnopqrstuvwx');
    expect(JSON.parse(out).b).toBe(1);
  });
});
