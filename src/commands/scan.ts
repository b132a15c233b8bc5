import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { resolveDataDir } from '../cli/data-dir.js';
import { dataDirFlag } from '../cli/audit-flags.js';
import { renderEvent, renderScan } from '../cli/scan-render.js';
import { AgentGuardError } from '../core/errors.js';
import type { FixReport, UnfixReport } from '../scan/fix.js';
import type { ScanResult } from '../scan/run-scan.js';
import type { ScanOptions } from '../scan/types.js';

/** `--json` output: the scan, and with --fix / --unfix what they changed (the scan is taken after them). */
export type ScanCommandResult = ScanResult & { fix?: FixReport; unfix?: UnfixReport };

const FORMATS = ['table', 'json', 'cyclonedx'] as const;

function usage(message: string, fix: string): AgentGuardError {
  return new AgentGuardError('USAGE', message, { actions: [fix] });
}

/** `--path` must name a folder that can be read: a typo must not produce a clean-looking report. */
async function checkFolder(path: string): Promise<void> {
  const { stat } = await import('node:fs/promises');
  const { resolve } = await import('node:path');
  const absolute = resolve(path);
  let info;
  try {
    info = await stat(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(error)})`;
    throw usage(`--path ${JSON.stringify(path)}: ${absolute} ${why}`, 'Pass a folder that exists, e.g. --path ~/src/my-agent.');
  }
  if (!info.isDirectory()) throw usage(`--path ${JSON.stringify(path)}: ${absolute} is not a folder`, 'Pass the folder that holds the project, not a file in it.');
}

/**
 * The key of the MCP entries' content hashes: derived from the data folder's redaction key, so hashes are stable
 * across scans on this install and cannot be checked against guesses elsewhere. Without that key (unreadable data
 * folder), a key of this process only.
 */
async function contentKey(dataDir: string): Promise<Uint8Array | undefined> {
  try {
    const { loadOrCreateRedactionKey } = await import('../core/guardrails/redaction-key.js');
    const { createHmac } = await import('node:crypto');
    return createHmac('sha256', loadOrCreateRedactionKey(dataDir)).update('agentguard scan: MCP config entry hash').digest();
  } catch {
    return undefined;
  }
}

export default class ScanCommand extends BaseCommand {
  static summary = 'Find the AI agents, model servers, MCP servers and agent projects on this machine, and whether they go through agentguard.';
  static description = `Looks at running processes (agent frameworks and LLM SDKs they load, agent CLIs, MCP servers, LLM credentials in their environment: names only, never values), listening ports (model and agent servers confirmed by two HTTP probes of their real API, on loopback only), the MCP configurations of Claude Desktop, Claude Code, Cursor, Windsurf, VS Code, Gemini CLI, Cline, Zed and Continue (in the home folder and in every project folder under --path), projects under --path, and the coding agents set up here (Claude Code, Cursor, Gemini CLI, Copilot CLI, Windsurf, Codex: program, settings folder, editor extension), secured when their hooks run \`agentguard hook\` and their MCP servers are wrapped. Everything runs offline; nothing leaves the machine.

\`--fix\` installs the hooks and wraps the MCP servers of every unsecured coding agent first, printing each diff and recording the files it changes in the data folder; \`--unfix\` puts back exactly those files.

A process is secured when it loads agentguard, or when its environment has a non-empty AGENTGUARD_TOKEN and an http(s) AGENTGUARD_SIDECAR_URL (both values are checked, never kept). Secrets are never shown: tokens, URL credentials, keys in URL paths and secret flag values are masked as *** in every output and in the registry.

The report is grouped by risk and always ends with what could NOT be inspected (permission denied, malformed files, files that are not regular files such as a FIFO, unsupported platform, probes that timed out), so a partial scan never reads as clean. Findings are recorded in the agent registry (\`agentguard agents list\`); processes that have exited are marked gone there.

Exit code: 0 when nothing unsecured was found, 1 when something was, 2 when the scan itself failed or --path is not a folder.`;
  static examples = [
    { description: 'Scan this machine and the current project', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Scan two source folders, without probing ports', command: '<%= config.bin %> <%= command.id %> --path ~/src/bots --path ~/src/tools --no-probe' },
    { description: 'An AI bill of materials (CycloneDX 1.6)', command: '<%= config.bin %> <%= command.id %> --format cyclonedx > aibom.json' },
    { description: 'Watch agents start and stop, one JSON event per line', command: '<%= config.bin %> <%= command.id %> --watch --json' },
    { description: 'See what --fix would change for the coding agents found', command: '<%= config.bin %> <%= command.id %> --fix --dry-run' },
    { description: 'Secure every coding agent found; later, undo exactly that', command: '<%= config.bin %> <%= command.id %> --fix && <%= config.bin %> <%= command.id %> --unfix' },
  ];

  static flags = {
    path: Flags.string({ description: 'A folder whose projects to inspect (repeatable; default: the current folder).', multiple: true, helpValue: '<dir>' }),
    format: Flags.string({ description: 'table (default), json or cyclonedx.', default: 'table', helpValue: '<format>' }),
    probe: Flags.boolean({ description: 'Probe listening ports over HTTP on loopback to confirm model and agent servers (default on; --no-probe turns it off).', default: true, allowNo: true }),
    'probe-timeout': Flags.integer({ description: 'Milliseconds each probe may take.', default: 800, min: 50, max: 10_000, helpValue: '<ms>' }),
    watch: Flags.boolean({ description: 'Scan again every --interval seconds and print agents starting and stopping, servers going up and down, and MCP servers added, changed or removed.' }),
    interval: Flags.integer({ description: 'Seconds between scans in --watch mode.', default: 10, min: 1, max: 3600, helpValue: '<s>' }),
    home: Flags.string({ description: 'Home folder whose MCP client configs to read (default: yours).', hidden: true }),
    count: Flags.integer({ description: 'Stop --watch after this many scans (for tests).', hidden: true, min: 1 }),
    fix: Flags.boolean({ description: 'Before scanning, install agentguard\'s hooks for every coding agent found whose hooks do not run it, and wrap its MCP servers (as `mcp install --all` does), printing every diff. Recorded in the data folder for --unfix.', exclusive: ['unfix', 'watch'] }),
    unfix: Flags.boolean({ description: 'Undo exactly what --fix changed: each file byte for byte when unchanged since, else only agentguard\'s entries taken out. Files --fix did not change are not touched.', exclusive: ['fix', 'watch'] }),
    'dry-run': Flags.boolean({ description: 'With --fix or --unfix: show the diffs and write nothing.' }),
    verbose: Flags.boolean({ description: 'Also list every location scanned (MCP config files and folders, project folders), found or not (`scanned` in JSON).' }),
    ...dataDirFlag,
  };

  async run(): Promise<ScanCommandResult | undefined> {
    const { flags } = await this.parse(ScanCommand);
    if (flags['dry-run'] && !flags.fix && !flags.unfix) throw usage('--dry-run goes with --fix or --unfix', 'Add --fix (or --unfix), or drop --dry-run.');
    if (!(FORMATS as readonly string[]).includes(flags.format)) throw usage(`--format ${JSON.stringify(flags.format)} is not a format`, `Use one of: ${FORMATS.join(', ')}.`);
    if (flags.watch && flags.format === 'cyclonedx') throw usage('--watch prints events; it cannot write a CycloneDX document', 'Drop --format cyclonedx, or run without --watch.');
    for (const path of flags.path ?? []) await checkFolder(path);
    const { runScan, scanOptions, maskScanResult } = await import('../scan/run-scan.js');
    const { maskStrings } = await import('../core/agents/report-mask.js');
    const progress = this.progressLine(flags.watch);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const scanned: string[] = [];
    const options = scanOptions({
      paths: flags.path,
      probe: flags.probe,
      probeTimeoutMs: flags['probe-timeout'],
      ...(flags.home ? { home: flags.home } : {}),
      progress: progress.update,
      contentKey: await contentKey(dataDir),
      ...(flags.verbose ? { scanned: (where: string) => scanned.push(where) } : {}),
    });
    if (flags.watch) return this.watch(options, flags.interval, flags.count, dataDir, runScan);
    const changes = flags.fix || flags.unfix ? await this.fixOrUnfix(options, dataDir, flags.fix, flags['dry-run'], flags.format === 'table' ? process.stdout : process.stderr) : {};
    let result: ScanCommandResult;
    try {
      result = maskScanResult(await runScan(options));
    } finally {
      progress.done();
    }
    if (flags.verbose) result.scanned = maskStrings(scanned);
    result = { ...result, ...changes };
    await this.record(result, dataDir);
    if (result.summary.unsecured > 0) process.exitCode = 1;
    if (flags.format === 'cyclonedx') {
      const { toCycloneDx } = await import('../scan/cyclonedx.js');
      const bom = await toCycloneDx(result.findings, { toolVersion: this.config.version, timestamp: new Date(result.startedAt) });
      process.stdout.write(`${JSON.stringify(bom, null, 2)}\n`);
      return undefined;
    }
    if (flags.format === 'json' || this.jsonEnabled()) {
      if (!this.jsonEnabled()) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return result;
    }
    process.stdout.write(`${renderScan(result)}\n`);
    return result;
  }

  /**
   * `--fix` / `--unfix`, printed before the scan that follows them (on stderr when stdout carries a JSON or CycloneDX
   * document); an agent that could not be fixed sets exit code 1.
   */
  private async fixOrUnfix(options: ScanOptions, dataDir: string, fix: boolean, dryRun: boolean, out: NodeJS.WritableStream): Promise<{ fix?: FixReport; unfix?: UnfixReport }> {
    const { fixCodingAgents, unfixCodingAgents, FixError } = await import('../scan/fix.js');
    const render = await import('../cli/scan-fix-render.js');
    const { mapHooksErrors } = await import('../cli/hooks-install.js');
    if (!fix) {
      try {
        const unfix = await unfixCodingAgents(dataDir, dryRun);
        if (!this.jsonEnabled()) out.write(render.renderUnfix(unfix));
        return { unfix };
      } catch (error) {
        if (error instanceof FixError) throw new AgentGuardError('SCAN_FIX_MANIFEST', error.message, { cause: error });
        throw error;
      }
    }
    // Wrapped MCP servers are decided by this project's policy, as with `mcp install`; without one they stay as they are.
    const { settingsFor } = await import('../cli/mcp-install.js');
    const mcp = await settingsFor(undefined).catch((error: Error) => ({ skipped: `${error.message} (run \`agentguard init\` here first, then \`agentguard scan --fix\` again)` }));
    const report = await mapHooksErrors(() => fixCodingAgents(options, { dataDir, dryRun, mcp }));
    if (report.agents.some((a) => a.failed)) process.exitCode = 1;
    if (!this.jsonEnabled()) out.write(render.renderFix(report));
    return { fix: report };
  }

  /** Adds the findings to the agent registry; a registry that cannot be written is reported, not fatal. */
  private async record(result: ScanResult, dataDir: string): Promise<void> {
    try {
      const { openStore } = await import('../core/store/open-store.js');
      const store = await openStore({ dataDir });
      try {
        await store.agents.upsertFromScan(result.findings, result.startedAt, { completeKinds: result.completeKinds, notInspected: result.notInspected });
      } finally {
        await store.close();
      }
    } catch (error) {
      result.skipped.push({ what: `agent registry in ${dataDir}`, reason: `could not record the findings: ${(error as Error).message}` });
    }
  }

  private async watch(options: ScanOptions, intervalS: number, count: number | undefined, dataDir: string, runScan: (o: ScanOptions) => Promise<ScanResult>): Promise<undefined> {
    const { diffScans } = await import('../scan/watch-events.js');
    const { maskStrings } = await import('../core/agents/report-mask.js');
    const { pollUntil } = await import('../core/poll.js');
    let previous: ScanResult | undefined;
    let cycle = 0;
    const stopping = new AbortController();
    const stop = () => stopping.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const scanOnce = async () => {
        const result = await runScan({ ...options, progress: undefined });
        await this.record(result, dataDir);
        if (previous === undefined) {
          this.note(`Watching: ${result.summary.total} found (${result.summary.unsecured} unsecured); ${result.skipped.length} things could not be inspected. Scanning every ${intervalS} s; Ctrl-C stops.`);
        } else {
          for (const event of diffScans(previous.findings, result.findings, result.startedAt)) {
            process.stdout.write(`${this.jsonEnabled() ? JSON.stringify(maskStrings(event)) : renderEvent(event)}\n`);
          }
        }
        previous = result;
        return count !== undefined && ++cycle >= count ? true : undefined;
      };
      await pollUntil(scanOnce, { intervalMs: intervalS * 1000, signal: stopping.signal });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return undefined;
  }

  /** One updating line on a terminal's stderr; nothing when stderr is not a terminal or output is JSON. */
  private progressLine(watching: boolean): { update: (message: string) => void; done: () => void } {
    const live = process.stderr.isTTY === true && !this.jsonEnabled() && !watching;
    return {
      update: (message) => {
        if (live) process.stderr.write(`\r\u001b[2Kscanning: ${message}…`);
      },
      done: () => {
        if (live) process.stderr.write('\r\u001b[2K');
      },
    };
  }
}
