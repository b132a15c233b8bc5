import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { paint } from '../../cli/style.js';
import { isSidecarAlive, readPidFile, sidecarUrl } from '../../sidecar/pid-file.js';
import { probe } from '../../cli/probe.js';

/** `--json` output. `healthy` is /healthz answering; `ready` is /readyz answering 200. */
export interface SidecarStatusResult {
  running: boolean;
  pid?: number;
  url?: string;
  startedAt?: string;
  healthy?: boolean;
  ready?: boolean;
  policy?: { name: string; hash: string };
  /** The failing /readyz checks, when not ready. */
  problems?: string[];
  /** Set when a pid file was found but its process is gone. */
  stalePidFile?: boolean;
}

interface ReadyBody {
  status?: string;
  checks?: { name: string; ok: boolean; message?: string }[];
  policy?: { name: string; hash: string };
}

export default class SidecarStatus extends BaseCommand {
  static summary = 'Show whether the sidecar is running and healthy.';
  static description = `Reads <data-dir>/sidecar.pid and asks the sidecar's /healthz and /readyz. Exits 0 when it is running, 1 when it is not.`;

  static examples = [
    { description: 'Human summary', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'For scripts', command: '<%= config.bin %> <%= command.id %> --json' },
  ];

  static flags = {
    ...dataDirFlag,
  };

  async run(): Promise<SidecarStatusResult> {
    const { flags } = await this.parse(SidecarStatus);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const pidFile = readPidFile(dataDir);
    if (pidFile === null || pidFile === 'invalid' || !isSidecarAlive(pidFile.pid)) {
      const result: SidecarStatusResult = pidFile === null ? { running: false } : { running: false, stalePidFile: true };
      process.exitCode = 1;
      this.note(`Sidecar: ${paint.red('not running')} for ${dataDir}${result.stalePidFile ? ' (the pid file is stale: `agentguard sidecar start` will replace it)' : ''}.`);
      return result;
    }
    const url = sidecarUrl(pidFile.host, pidFile.port);
    const health = await probe(`${url}/healthz`);
    const healthy = !(health instanceof Error) && health.status === 200;
    // The pid file's key reads the checks in full (what failed, the policy); without it /readyz says only the status.
    const answer = await probe(`${url}/readyz`, undefined, pidFile.statusKey ? { 'x-agentguard-status-key': pidFile.statusKey } : {});
    const ready = answer instanceof Error ? null : answer;
    const body = (ready?.body ?? {}) as ReadyBody;
    const result: SidecarStatusResult = { running: true, pid: pidFile.pid, url, startedAt: pidFile.startedAt, healthy, ready: ready?.status === 200 };
    if (body.policy) result.policy = { name: body.policy.name, hash: body.policy.hash };
    const problems = (body.checks ?? []).filter((c) => !c.ok).map((c) => `${c.name}: ${c.message ?? 'failed'}`);
    if (problems.length > 0) result.problems = problems;

    if (!this.jsonEnabled()) {
      const state = !healthy ? paint.red('not answering') : result.ready ? paint.green('ready') : paint.yellow('not ready');
      const lines = [`Sidecar: running (pid ${pidFile.pid}) at ${url}, ${state}`, `  started ${pidFile.startedAt}`];
      if (result.policy) lines.push(`  policy ${result.policy.name} (${result.policy.hash})`);
      for (const problem of problems) lines.push(`  ${paint.red('✗')} ${problem}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return result;
  }
}
