import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { readActionFlag, readJsonLinesFile, readStdinActions, type ActionInput } from '../../cli/read-actions.js';
import { renderDecision, renderExplanation } from '../../cli/render-decision.js';
import type { Action, Decision, Effect } from '../../core/action.js';
import { loadProjectConfig } from '../../core/config/project-config.js';
import type { RuleTrace } from '../../core/policy/evaluate.js';
import { Policy } from '../../core/policy/policy.js';
import type { Engine } from '../../core/engine/types.js';
import { openProjectEngine } from '../../cli/project-engine.js';
import { atFlag, clockAt } from '../../cli/at-flag.js';

/** `--json` output for one action: the Decision, plus `explanation` with --explain. */
export type PolicySimulateResult = Decision & { explanation?: RuleTrace[] };

export default class PolicySimulate extends BaseCommand {
  static summary = 'Decide actions against a policy and show why.';
  static description = `Reads one action (--action, or JSON on stdin) or many (--input actions.jsonl, or JSON Lines on stdin) and prints each decision with the rules behind it. Uses the same engine as the SDK and the sidecar (the project's agentId is put on actions that name none, and --explain explains that action); --record also writes the audit trail. Without --record nothing is written: hash and encrypt redactions use the data folder's redaction key when it exists, else a key held in memory for this run.

With --json, one action prints its Decision; JSON Lines input prints one Decision per line and a summary on stderr.`;

  static examples = [
    { description: 'Decide one action', command: `<%= config.bin %> <%= command.id %> --policy agentguard/policy.yaml --action '{"kind":"tool","name":"db.query","input":{"sql":"DROP TABLE users"}}'` },
    { description: 'Show every rule and which conditions matched', command: '<%= config.bin %> <%= command.id %> --action @action.json --explain' },
    { description: 'Decide as on a Friday afternoon in Berlin (time conditions)', command: `<%= config.bin %> <%= command.id %> --action '{"kind":"tool","name":"deploy"}' --at 2026-03-27T16:30:00+01:00 --explain` },
    { description: 'Replay recorded actions and fail the build on any deny', command: '<%= config.bin %> <%= command.id %> --input actions.jsonl --json --exit-code' },
  ];

  static flags = {
    policy: Flags.string({ char: 'p', description: 'Policy file (default: the policy in agentguard.config.json, else agentguard/policy.yaml).' }),
    action: Flags.string({ char: 'a', description: 'The action as JSON, or @file.json.', exclusive: ['input'] }),
    input: Flags.string({ char: 'i', description: 'A JSON Lines file with one action per line.', exclusive: ['action'] }),
    explain: Flags.boolean({ description: "Show every rule's match result and conditions." }),
    'exit-code': Flags.boolean({ description: 'Exit with 1 when any action is not allowed (deny or require_approval).' }),
    record: Flags.boolean({ description: 'Record each decision in the audit trail, as the SDK and the sidecar do.' }),
    at: atFlag,
    'data-dir': Flags.string({ description: 'The agentguard data folder (default: the project\'s .agentguard): its redaction key is read for hash and encrypt redaction (never created without --record), and --record writes the audit trail there.' }),
  };

  async run(): Promise<PolicySimulateResult | undefined> {
    const { flags } = await this.parse(PolicySimulate);
    const project = await loadProjectConfig();
    const policy = await Policy.fromFile(flags.policy ?? project.paths.policy);
    let inputs: ActionInput[];
    let many: boolean;
    if (flags.action !== undefined) {
      inputs = [await readActionFlag(flags.action)];
      many = false;
    } else if (flags.input !== undefined) {
      inputs = await readJsonLinesFile(flags.input);
      many = true;
    } else {
      inputs = await readStdinActions();
      many = inputs.length !== 1 || inputs[0].source !== 'stdin';
    }

    // The engine SDK and sidecar decide with; it opens the store (a native module) only when recording. Without
    // --record it writes nothing, and reads the data folder's redaction key when there is one.
    const now = clockAt(flags.at);
    const engine = await openProjectEngine(project, { policy, record: flags.record, dataDir: flags['data-dir'], ...(now ? { now } : {}) });
    try {
      return await this.simulate(engine, inputs, many, flags);
    } finally {
      await engine.close();
    }
  }

  private async simulate(
    engine: Engine,
    inputs: ActionInput[],
    many: boolean,
    flags: { explain: boolean; 'exit-code': boolean },
  ): Promise<PolicySimulateResult | undefined> {
    const counts: Record<Effect, number> = { allow: 0, deny: 0, transform: 0, require_approval: 0 };
    let unreadable = 0;
    let last: PolicySimulateResult | undefined;
    for (const input of inputs) {
      if (input.error !== undefined) {
        unreadable++;
        process.stderr.write(`${input.source}: ${input.error}; skipped\n`);
        continue;
      }
      const decision = await engine.decide(input.value as Action);
      // The action as decided: with the project's agent id filled in.
      const explanation = flags.explain ? engine.explain(input.value as Action) : undefined;
      counts[decision.effect]++;
      last = explanation ? { ...decision, explanation } : decision;
      if (this.jsonEnabled()) {
        if (many) process.stdout.write(`${JSON.stringify(last)}\n`);
      } else {
        process.stdout.write(`${many ? `${input.source}  ` : ''}${renderDecision(decision, input.value)}\n`);
        if (explanation) process.stdout.write(`${renderExplanation(explanation)}\n`);
        if (many) process.stdout.write('\n');
      }
    }
    if (many) {
      const total = inputs.length - unreadable;
      process.stderr.write(
        `${total} action${total === 1 ? '' : 's'}: ${counts.allow} allow, ${counts.deny} deny, ${counts.transform} transform, ${counts.require_approval} require_approval` +
          (unreadable ? `; ${unreadable} unreadable line${unreadable === 1 ? '' : 's'}` : '') +
          '\n',
      );
    }
    if (unreadable > 0) process.exitCode = 2;
    else if (flags['exit-code'] && (counts.deny > 0 || counts.require_approval > 0)) process.exitCode = 1;
    return many ? undefined : last;
  }
}
