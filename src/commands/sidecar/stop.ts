import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { paint } from '../../cli/style.js';
import { AgentGuardError } from '../../core/errors.js';
import { isSidecarAlive, pidFilePath, readPidFile, removePidFile } from '../../sidecar/pid-file.js';
import { pollUntil } from '../../core/poll.js';

/** `--json` output: the sidecar that was stopped. */
export interface SidecarStopResult {
  stopped: true;
  pid: number;
  waitedMs: number;
}

const STOP_TIMEOUT_MS = 10_000;

export default class SidecarStop extends BaseCommand {
  static summary = 'Stop the sidecar started for this data folder.';
  static description = `Sends SIGTERM to the pid in <data-dir>/sidecar.pid and waits up to 10 s for it to exit: the sidecar stops accepting requests, finishes those in flight, signs a final audit checkpoint and removes its pid file. Exits 1 when no sidecar is running (a stale pid file is removed).`;

  static examples = [{ description: 'Stop the sidecar of this project', command: '<%= config.bin %> <%= command.id %>' }];

  static flags = {
    ...dataDirFlag,
  };

  async run(): Promise<SidecarStopResult> {
    const { flags } = await this.parse(SidecarStop);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const pidFile = readPidFile(dataDir);
    if (pidFile === null) {
      throw new AgentGuardError('SIDECAR_NOT_RUNNING', `no sidecar is running for ${dataDir} (no ${pidFilePath(dataDir)})`, {
        actions: ['Start one with `agentguard sidecar start`, or pass the --data-dir it was started with.'],
      });
    }
    if (pidFile === 'invalid' || !isSidecarAlive(pidFile.pid)) {
      removePidFile(dataDir);
      const which = pidFile === 'invalid' ? 'an unreadable pid file' : `a stale pid file (pid ${pidFile.pid} is not running)`;
      throw new AgentGuardError('SIDECAR_NOT_RUNNING', `no sidecar is running for ${dataDir}: removed ${which}`, {
        actions: ['Start one with `agentguard sidecar start`; read `agentguard sidecar logs` to see why the last one ended.'],
      });
    }

    const started = Date.now();
    process.kill(pidFile.pid, 'SIGTERM');
    const exited = await pollUntil(() => (isSidecarAlive(pidFile.pid) ? undefined : true), { intervalMs: 50, timeoutMs: STOP_TIMEOUT_MS });
    if (exited.status === 'done') {
      // The sidecar removes its own pid file; one left behind means it could not finish its shutdown.
      if (readPidFile(dataDir) !== null) removePidFile(dataDir);
      const result: SidecarStopResult = { stopped: true, pid: pidFile.pid, waitedMs: Date.now() - started };
      this.note(`${paint.green('Stopped')} the sidecar (pid ${pidFile.pid}) in ${result.waitedMs} ms.`);
      return result;
    }
    throw new AgentGuardError('SIDECAR_STOP_TIMEOUT', `the sidecar (pid ${pidFile.pid}) did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM`, {
      actions: ['It may still be draining long requests: check `agentguard sidecar logs`.', `Force it with \`kill -9 ${pidFile.pid}\` (no final audit checkpoint is then written).`],
    });
  }
}
