import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

/** A home folder with four coding agents set up, as users leave their files: comments, tabs, other hooks, MCP servers. */
const FILES: Record<string, string> = {
  '.claude/settings.json': '{\n\t"model": "opus",\n\t"hooks": { "Stop": [ { "hooks": [ { "type": "command", "command": "say done" } ] } ] }\n}\n',
  '.gemini/settings.json': '// Gemini CLI\n{\n  "theme": "GitHub", // dark\n  "mcpServers": {\n    "notes": { "command": "node", "args": ["/opt/notes.js"] },\n  },\n}\n',
  '.cursor/mcp.json': '{"mcpServers":{"fs":{"command":"npx","args":["-y","@modelcontextprotocol/server-filesystem@1.0.0","/srv"]}}}',
  '.codex/config.toml': 'model = "o4"\n',
};

let root: string;
let home: string;
let project: string;
let dataDir: string;

beforeEach(async () => {
  root = makeTempDir('ag-scan-fix-');
  home = join(root, 'home');
  project = join(root, 'project');
  dataDir = join(root, 'data');
  for (const [rel, text] of Object.entries(FILES)) {
    mkdirSync(join(home, rel, '..'), { recursive: true });
    writeFileSync(join(home, rel), text);
  }
  const init = await runCliInProcess(['init', '--yes', '--template', 'coding-agent', '--dir', project]);
  expect(init.code).toBe(0);
  // The first in-process command loads oclif and the commands: slow on a loaded machine.
}, 90_000);

/** Every file and folder under the home folder with its bytes: what "restored exactly" is checked against. */
function snapshot(dir = home): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      out[`${relative(home, path)}/`] = '';
      Object.assign(out, snapshot(path));
    } else out[relative(home, path)] = readFileSync(path).toString('base64');
  }
  return out;
}

interface Finding { id: string; kind: string; status: string; notes: string[]; details: Record<string, unknown> }
interface ScanJson { findings: Finding[]; skipped: Array<{ what: string; reason: string }>; fix?: { agents: Array<{ agent: string; failed: boolean; hooks: unknown[]; mcp: unknown[] }> }; unfix?: { files: Array<{ path: string; outcome: string }> } }

async function scan(...extra: string[]): Promise<{ code: number | undefined; json: ScanJson; stdout: string; stderr: string }> {
  const result = await runCliInProcess(['scan', '--no-probe', '--home', home, '--path', project, '--data-dir', dataDir, ...extra], { cwd: project });
  return { code: result.code, json: extra.includes('--json') ? (JSON.parse(result.stdout) as ScanJson) : ({} as ScanJson), stdout: result.stdout, stderr: result.stderr };
}

const agentsOf = (json: ScanJson) => Object.fromEntries(json.findings.filter((f) => f.kind === 'coding-agent').map((f) => [f.details.agent as string, f.status]));

describe('scan shows coding agents; --fix secures them; --unfix puts every file back', () => {
  it('lists each agent found with its hooks and MCP servers; --fix then scan shows them secured; --unfix restores byte for byte', async () => {
    const original = snapshot();
    const before = await scan('--json');
    expect(agentsOf(before.json)).toEqual({ 'claude-code': 'unsecured', 'gemini-cli': 'unsecured', cursor: 'unsecured', codex: 'unsecured' });
    const cursor = before.json.findings.find((f) => f.id === 'coding-agent:cursor')!;
    expect(cursor.details.mcp).toMatchObject({ client: 'cursor', servers: 1, wrapped: 0 });
    expect(cursor.notes.join(' ')).toMatch(/agentguard hooks install cursor/);

    const dry = await scan('--fix', '--dry-run');
    expect(dry.stdout).toContain('what --fix would change (nothing written)');
    expect(dry.stdout).toContain('+        "matcher": "*"');
    expect(dry.stdout).toContain('mcp", "wrap", "--name", "fs"');
    // No agentguard project in the home folder: the user-wide hooks would block calls in folders without one.
    expect(dry.stdout).toContain('These hooks run in every project');
    expect(snapshot()).toEqual(original);
    expect(existsSync(join(dataDir, 'scan-fix.json'))).toBe(false);

    const fixed = await scan('--fix', '--json');
    expect(fixed.json.fix!.agents.map((a) => a.agent).sort()).toEqual(['claude-code', 'codex', 'cursor', 'gemini-cli']);
    expect(fixed.json.fix!.agents.every((a) => !a.failed)).toBe(true);
    expect(agentsOf(fixed.json)).toEqual({ 'claude-code': 'secured', 'gemini-cli': 'secured', cursor: 'secured', codex: 'secured' });
    expect(readFileSync(join(home, '.gemini/settings.json'), 'utf8')).toContain('// dark');

    const again = await scan('--json');
    expect(agentsOf(again.json)).toEqual({ 'claude-code': 'secured', 'gemini-cli': 'secured', cursor: 'secured', codex: 'secured' });
    const noop = await scan('--fix');
    expect(noop.stdout).toContain('already goes through agentguard; nothing to change');

    const undone = await scan('--unfix', '--json');
    expect(undone.json.unfix!.files.every((f) => f.outcome === 'bytes' || f.outcome === 'removed')).toBe(true);
    expect(snapshot()).toEqual(original);
    expect(existsSync(join(dataDir, 'scan-fix.json'))).toBe(false);
    expect(agentsOf(undone.json)).toEqual({ 'claude-code': 'unsecured', 'gemini-cli': 'unsecured', cursor: 'unsecured', codex: 'unsecured' });
  }, 120_000);

  it('--unfix keeps what the user changed after --fix and takes out only agentguard entries there; other files byte for byte', async () => {
    const original = snapshot();
    expect((await scan('--fix')).code).toBe(0);
    const settings = join(home, '.claude/settings.json');
    writeFileSync(settings, readFileSync(settings, 'utf8').replace('"model": "opus"', '"model": "sonnet"'));
    const undone = await scan('--unfix');
    expect(undone.stdout).toMatch(/\.claude\/settings\.json: agentguard entries taken out/);
    expect(undone.stdout).toContain('changed since scan --fix');
    const text = readFileSync(settings, 'utf8');
    expect(text).toContain('"sonnet"');
    expect(text).toContain('say done');
    expect(text).not.toContain('agentguard-hook');
    const now = snapshot();
    for (const [rel, bytes] of Object.entries(original)) if (rel !== '.claude/settings.json') expect(now[rel], rel).toBe(bytes);
    // The backup --fix wrote beside it goes too.
    expect(Object.keys(now).filter((k) => !(k in original))).toEqual([]);
  });

  it('a hook file that cannot be read: scan says so (never secured), --fix fixes the others, leaves it untouched and exits 1', async () => {
    const broken = join(home, '.claude/settings.json');
    writeFileSync(broken, '{ "model": "opus", }');
    const first = await scan('--json');
    expect(agentsOf(first.json)['claude-code']).toBe('unknown');
    expect(first.json.skipped.some((s) => s.what === broken && /Claude Code hook settings not inspected/.test(s.reason))).toBe(true);
    const fixed = await scan('--fix', '--json');
    expect(fixed.code).toBe(1);
    expect(fixed.json.fix!.agents.find((a) => a.agent === 'claude-code')).toMatchObject({ failed: true });
    expect(readFileSync(broken, 'utf8')).toBe('{ "model": "opus", }');
    expect(agentsOf(fixed.json)).toMatchObject({ 'claude-code': 'unknown', cursor: 'secured', codex: 'secured', 'gemini-cli': 'secured' });
  });

  it('--unfix without a --fix to undo is an error; --dry-run alone is a usage error', async () => {
    const none = await scan('--unfix');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('SCAN_FIX_MANIFEST');
    const dry = await scan('--dry-run');
    expect(dry.code).toBe(2);
  });
});

describe('scan --fix then --unfix, for any settings the agents may hold', () => {
  it('puts every file and folder back exactly', async () => {
    const { fixCodingAgents, unfixCodingAgents } = await import('../src/scan/fix.js');
    const { scanOptions } = await import('../src/scan/run-scan.js');
    const fc = (await import('fast-check')).default;
    const json = fc.jsonValue({ maxDepth: 2 }).filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
    const layout = fc.constantFrom(0, 1, 4, '\t');
    await fc.assert(
      fc.asyncProperty(json, json, layout, fc.boolean(), async (claude, cursorMcp, indent, copilot) => {
        const base = makeTempDir('ag-scan-fix-prop-');
        const h = join(base, 'home');
        mkdirSync(join(h, '.claude'), { recursive: true });
        mkdirSync(join(h, '.cursor'), { recursive: true });
        if (copilot) mkdirSync(join(h, '.copilot'), { recursive: true });
        const { hooks: _ignored, ...settings } = claude as Record<string, unknown>;
        writeFileSync(join(h, '.claude', 'settings.json'), JSON.stringify(settings, null, indent));
        writeFileSync(join(h, '.cursor', 'mcp.json'), JSON.stringify({ ...(cursorMcp as object), mcpServers: { s: { command: 'node', args: ['s.js'] } } }, null, indent));
        const before = snapshotOf(h);
        const options = scanOptions({ home: h, paths: [project], probe: false, pids: [] });
        const data = join(base, 'data');
        const fixed = await fixCodingAgents(options, { dataDir: data, dryRun: false, mcp: { project } });
        expect(fixed.agents.length).toBe(copilot ? 3 : 2);
        expect(snapshotOf(h)).not.toEqual(before);
        await unfixCodingAgents(data, false);
        expect(snapshotOf(h)).toEqual(before);
      }),
      { numRuns: 12 },
    );
  }, 120_000);
});

function snapshotOf(dir: string, top = dir): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) Object.assign(out, { [`${relative(top, path)}/`]: '' }, snapshotOf(path, top));
    else out[relative(top, path)] = readFileSync(path).toString('base64');
  }
  return out;
}

describe('a second scan --fix', () => {
  it('leaves the record of files it does not touch as it was, so --unfix keeps an edit made between the two', async () => {
    const { fixCodingAgents, unfixCodingAgents } = await import('../src/scan/fix.js');
    const { scanOptions } = await import('../src/scan/run-scan.js');
    rmSync(join(home, '.gemini'), { recursive: true });
    const options = scanOptions({ home, paths: [project], probe: false, pids: [] });
    await fixCodingAgents(options, { dataDir, dryRun: false, mcp: { project } });
    const settings = join(home, '.claude/settings.json');
    writeFileSync(settings, readFileSync(settings, 'utf8').replace('"model": "opus"', '"model": "sonnet"'));
    mkdirSync(join(home, '.gemini'));
    writeFileSync(join(home, '.gemini/settings.json'), FILES['.gemini/settings.json']);
    const second = await fixCodingAgents(options, { dataDir, dryRun: false, mcp: { project } });
    expect(second.agents.map((a) => a.agent)).toEqual(['gemini-cli']);
    const undone = await unfixCodingAgents(dataDir, false);
    expect(undone.files.find((f) => f.path === settings)?.outcome).toBe('entries');
    const text = readFileSync(settings, 'utf8');
    expect(text).toContain('"sonnet"');
    expect(text).not.toContain('agentguard-hook');
    expect(readFileSync(join(home, '.gemini/settings.json'), 'utf8')).toBe(FILES['.gemini/settings.json']);
    expect(readFileSync(join(home, '.cursor/mcp.json'), 'utf8')).toBe(FILES['.cursor/mcp.json']);
  }, 120_000);
});

describe('one file changed for hooks and MCP servers', () => {
  it('Gemini CLI settings edited after --fix: --unfix takes out the hook and unwraps the server, keeping the edit', async () => {
    const { fixCodingAgents, unfixCodingAgents } = await import('../src/scan/fix.js');
    const { scanOptions } = await import('../src/scan/run-scan.js');
    const options = scanOptions({ home, paths: [project], probe: false, pids: [] });
    await fixCodingAgents(options, { dataDir, dryRun: false, mcp: { project } });
    const settings = join(home, '.gemini/settings.json');
    const fixed = readFileSync(settings, 'utf8');
    expect(fixed).toContain('agentguard-hook.js');
    expect(fixed).toContain('"wrap"');
    writeFileSync(settings, fixed.replace('"GitHub"', '"Dracula"'));
    await unfixCodingAgents(dataDir, false);
    const text = readFileSync(settings, 'utf8');
    expect(text).toContain('"Dracula"');
    expect(text).toContain('// dark');
    expect(text).not.toContain('agentguard');
  }, 120_000);
});
