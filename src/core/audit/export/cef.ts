import type { Effect } from '../../action.js';
import type { AuditRecord } from '../types.js';
import type { AuditExporter, ExporterOptions, ExportWriter } from './exporter.js';
import { actionLabel, epochMs, viewRecord } from './view.js';

/** CEF severity (0-10) per decision effect. */
export const CEF_SEVERITY: Record<Effect, number> = { deny: 7, require_approval: 5, transform: 3, allow: 1 };
/** CEF severity of outcome records: a failed action is worth a look, a successful one is routine. */
export const CEF_OUTCOME_SEVERITY = { error: 3, ok: 1 } as const;

const EFFECT_WORD: Record<Effect, string> = { allow: 'allowed', deny: 'denied', transform: 'transformed', require_approval: 'held for approval' };

/** A header field: `\` and `|` escaped; a line break cannot appear in the header, so it becomes a space. */
export function cefHeader(value: string): string {
  return value.replace(/[\\|]/g, (c) => `\\${c}`).replace(/\r\n|[\r\n]/g, ' ');
}

/** An extension value: `\` and `=` escaped, line breaks written as `\n` and `\r` (the spec's multi-line form). */
export function cefValue(value: string): string {
  return value.replace(/[\\=\r\n]/g, (c) => (c === '\r' ? '\\r' : c === '\n' ? '\\n' : `\\${c}`));
}

/**
 * ArcSight Common Event Format, one event per line:
 * `CEF:0|agentguard|agentguard|<version>|<signature id>|<name>|<severity>|<extensions>`.
 * See docs/audit-export.md for which field goes where.
 */
export class CefExporter implements AuditExporter {
  readonly format = 'cef' as const;
  private readonly version: string;

  constructor(options: ExporterOptions) {
    this.version = options.productVersion;
  }

  begin(): void {}

  record(r: AuditRecord, out: ExportWriter): void {
    out.write(`${this.line(r)}\n`);
  }

  end(): void {}

  /** One record as a CEF line (without the line break). */
  line(r: AuditRecord): string {
    const view = viewRecord(r);
    const ext: Array<[string, string | number | undefined]> = [];
    const rt = epochMs(r);
    if (Number.isFinite(rt)) ext.push(['rt', rt]);
    let signature: string;
    let name: string;
    let severity: number;
    if (r.type === 'decision' && r.effect !== null) {
      signature = `decision.${r.effect}`;
      name = `Action ${EFFECT_WORD[r.effect] ?? r.effect}: ${actionLabel(view)}`;
      severity = CEF_SEVERITY[r.effect] ?? 5;
      ext.push(['act', r.effect]);
    } else {
      const status = view.status ?? 'unknown';
      signature = `outcome.${status}`;
      name = `Action ${status === 'ok' ? 'completed' : status === 'error' ? 'failed' : status}: ${actionLabel(view)}`;
      severity = status === 'error' ? CEF_OUTCOME_SEVERITY.error : CEF_OUTCOME_SEVERITY.ok;
      ext.push(['act', status], ['outcome', status === 'ok' ? 'success' : status === 'error' ? 'failure' : status]);
    }
    ext.push(['cat', r.type], ['externalId', r.seq]);
    if (r.agentId !== null) ext.push(['suser', r.agentId]);
    if (view.messages.length > 0) ext.push(['msg', view.messages.join('; ')]);
    if (r.rules.length > 0) ext.push(['cs1Label', 'rules'], ['cs1', r.rules.join(',')]);
    if (r.decisionId !== null) ext.push(['cs2Label', 'decisionId'], ['cs2', r.decisionId]);
    ext.push(['cs3Label', 'hash'], ['cs3', r.hash]);
    ext.push(['cs4Label', 'action'], ['cs4', actionLabel(view)]);
    if (view.policy?.name !== undefined) ext.push(['cs5Label', 'policy'], ['cs5', [view.policy.name, view.policy.hash].filter(Boolean).join(' ')]);
    ext.push(['cs6Label', 'prevHash'], ['cs6', r.prevHash]);
    if (view.durationMs !== undefined) ext.push(['cn1Label', 'durationMs'], ['cn1', Math.round(view.durationMs)]);
    if (view.elapsedUs !== undefined) ext.push(['cn2Label', 'elapsedUs'], ['cn2', Math.round(view.elapsedUs)]);
    const header = ['CEF:0', 'agentguard', 'agentguard', this.version, signature, name, String(severity)].map((f, i) => (i === 0 ? f : cefHeader(f)));
    const extensions = ext.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${cefValue(String(v))}`);
    return `${header.join('|')}|${extensions.join(' ')}`;
  }
}
