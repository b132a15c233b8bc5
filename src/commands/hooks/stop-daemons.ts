import { BaseCommand } from '../../cli/base-command.js';
import type { DaemonStatus } from '../../hooks/daemon/protocol.js';

/** `--json` output: the hook decision daemons that were running and are stopped now. */
export interface HooksStopDaemonsResult {
  stopped: DaemonStatus[];
}

export default class HooksStopDaemons extends BaseCommand {
  static summary = 'Stop every hook decision daemon of this user (the next hook starts a fresh one).';
  static description = `In local mode a hook asks the project's hook decision daemon, which the first hook started, instead of loading the policy itself. This stops all of them (each closes its engine, flushing the audit trail, and removes its socket) and waits until they have exited. Daemons also stop on their own after 10 minutes without a request. Set AGENTGUARD_HOOK_DAEMON=0 in the agent's environment to decide every call in the hook's own process instead.`;
  static examples = [{ description: 'Stop them all', command: '<%= config.bin %> <%= command.id %>' }];

  async run(): Promise<HooksStopDaemonsResult> {
    await this.parse(HooksStopDaemons);
    const [{ stopDaemons }, { renderStopped }] = await Promise.all([import('../../hooks/daemon/status.js'), import('../../hooks/daemon/render.js')]);
    const stopped = await stopDaemons(process.env);
    if (!this.jsonEnabled()) process.stdout.write(renderStopped(stopped));
    return { stopped };
  }
}
