import type { Effect } from '../../action.js';
import type { AuditRecord } from '../types.js';
import type { AuditExporter, ExporterOptions, ExportWriter } from './exporter.js';
import { epochMs, viewRecord, type RecordView } from './view.js';

/** The OCSF schema version the events follow (1.9.0 added the `ai_agent` object to the ai_operation profile). */
export const OCSF_VERSION = '1.9.0';

const CLASS_UID = 6003; // API Activity
const CATEGORY_UID = 6; // Application Activity
/** API Activity's activity ids are Create/Read/Update/Delete; a decision or an outcome is none of those. */
const ACTIVITY_OTHER = 99;

const SEVERITY: Record<number, string> = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High' };
/** OCSF severity_id per effect, matching the CEF severities 1/3/5/7. */
const EFFECT_SEVERITY: Record<Effect, number> = { allow: 1, transform: 2, require_approval: 3, deny: 4 };

/** security_control profile: action_id (1 Allowed, 2 Denied, 4 Modified) and disposition_id per effect. */
const CONTROL: Record<Effect, { action_id: number; action: string; disposition_id: number; disposition: string }> = {
  allow: { action_id: 1, action: 'Allowed', disposition_id: 1, disposition: 'Allowed' },
  transform: { action_id: 4, action: 'Modified', disposition_id: 1, disposition: 'Allowed' },
  deny: { action_id: 2, action: 'Denied', disposition_id: 2, disposition: 'Blocked' },
  // The action does not run unless someone approves it: denied for now; "Other" carries the exact disposition.
  require_approval: { action_id: 2, action: 'Denied', disposition_id: 99, disposition: 'Approval Required' },
};

/** Model-name prefixes whose provider is unambiguous; anything else needs an explicit `provider` in the action. */
const MODEL_PROVIDERS: Array<[RegExp, string]> = [
  [/^(gpt-|o[134](-|$)|chatgpt-|text-embedding-|dall-e|whisper|tts-)/i, 'OpenAI'],
  [/^claude/i, 'Anthropic'],
  [/^(gemini|gemma)/i, 'Google'],
  [/^(mistral|mixtral|codestral|ministral)/i, 'Mistral AI'],
];

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The model an `llm` action names, with its provider when known (explicitly, or from an unambiguous model name). */
function modelOf(view: RecordView): { name: string; provider?: string } | undefined {
  const name = str(view.input?.model);
  if (name === undefined) return undefined;
  const provider = str(view.input?.provider) ?? str(view.context?.provider) ?? MODEL_PROVIDERS.find(([re]) => re.test(name))?.[1];
  return { name, provider };
}

const ACTIVITY_NAME: Record<AuditRecord['type'], string> = { decision: 'Decision', outcome: 'Outcome', approval: 'Approval', alert: 'Alert', checkpoint: 'Checkpoint' };

/**
 * Unique per record: a decision's id, `<id>:outcome` for its outcome, and the sequence number for the other records
 * of a decision (a decision can have several approval records: requested, approved, consumed…).
 */
function eventUid(r: AuditRecord): string {
  if (r.decisionId === null) return `seq:${r.seq}`;
  if (r.type === 'decision') return r.decisionId;
  if (r.type === 'outcome') return `${r.decisionId}:outcome`;
  return `${r.decisionId}:${r.type}:${r.seq}`;
}

function fallbackMessage(r: AuditRecord, view: RecordView): string {
  if (r.type === 'decision') return `Action ${r.effect ?? 'decided'}`;
  if (r.type === 'outcome') return `Action ${view.status ?? 'finished'}`;
  return view.status !== undefined ? `${ACTIVITY_NAME[r.type]} ${view.status}` : `${ACTIVITY_NAME[r.type]} recorded`;
}

function status(r: AuditRecord, view: RecordView): { status_id: number; status: string; status_detail?: string } {
  if (r.type === 'outcome') {
    if (view.status === 'ok') return { status_id: 1, status: 'Success' };
    if (view.status === 'error') return { status_id: 2, status: 'Failure', ...(view.error ? { status_detail: view.error } : {}) };
    return { status_id: 99, status: view.status ?? 'Unknown' };
  }
  if (r.effect === 'deny') return { status_id: 2, status: 'Failure', status_detail: 'Denied by policy' };
  if (r.effect === 'require_approval') return { status_id: 99, status: 'Pending Approval' };
  return { status_id: 1, status: 'Success' };
}

/**
 * OCSF API Activity events (class 6003), one JSON object per line, with the security_control profile (allowed or
 * denied, the policy) and the ai_operation profile (the agent, and its model when the record names one).
 * docs/audit-export.md lists which field goes where.
 */
export class OcsfExporter implements AuditExporter {
  readonly format = 'ocsf' as const;
  private readonly version: string;

  constructor(options: ExporterOptions) {
    this.version = options.productVersion;
  }

  begin(): void {}

  record(r: AuditRecord, out: ExportWriter): void {
    out.write(`${JSON.stringify(this.event(r))}\n`);
  }

  end(): void {}

  /** One record as an OCSF event object. */
  event(r: AuditRecord): Record<string, unknown> {
    const view = viewRecord(r);
    const time = epochMs(r);
    const severityId = r.type === 'decision' && r.effect !== null ? EFFECT_SEVERITY[r.effect] ?? 0 : view.status === 'error' ? 2 : 1;
    const agentId = r.agentId ?? undefined;
    const model = modelOf(view);
    const aiModel = model?.provider !== undefined ? { name: model.name, ai_provider: model.provider } : undefined;
    const aiAgent = agentId !== undefined ? { uid: agentId, ...(view.agentName ? { name: view.agentName } : {}), ...(aiModel ? { ai_model: aiModel } : {}) } : undefined;
    const profiles = ['security_control', ...(aiAgent || aiModel ? ['ai_operation'] : [])];
    const control = r.type === 'decision' && r.effect !== null ? CONTROL[r.effect] : undefined;
    const method = str(view.input?.method);
    const url = str(view.input?.url);

    return {
      class_uid: CLASS_UID,
      class_name: 'API Activity',
      category_uid: CATEGORY_UID,
      category_name: 'Application Activity',
      activity_id: ACTIVITY_OTHER,
      activity_name: ACTIVITY_NAME[r.type],
      type_uid: CLASS_UID * 100 + ACTIVITY_OTHER,
      type_name: `API Activity: ${ACTIVITY_NAME[r.type]}`,
      time: Number.isFinite(time) ? time : 0,
      timezone_offset: 0,
      severity_id: severityId,
      severity: SEVERITY[severityId] ?? 'Unknown',
      ...status(r, view),
      message: view.messages.length > 0 ? view.messages.join('; ') : fallbackMessage(r, view),
      ...(view.durationMs !== undefined ? { duration: Math.round(view.durationMs) } : {}),
      metadata: {
        version: OCSF_VERSION,
        product: { name: 'agentguard', vendor_name: 'agentguard', version: this.version },
        profiles,
        uid: eventUid(r),
        ...(r.decisionId !== null ? { correlation_uid: r.decisionId } : {}),
        sequence: r.seq,
        event_code: r.type,
        log_name: 'agentguard audit',
      },
      actor: { user: { ...(agentId !== undefined ? { uid: agentId } : {}), name: view.agentName ?? agentId ?? 'unknown', type_id: 99, type: 'AI Agent' } },
      src_endpoint: { name: agentId ?? 'unknown' },
      api: {
        operation: view.name ?? 'unknown',
        ...(view.kind !== undefined ? { service: { name: view.kind } } : {}),
        ...(r.decisionId !== null ? { request: { uid: r.decisionId } } : {}),
      },
      ...(method !== undefined || url !== undefined
        ? { http_request: { ...(method !== undefined ? { http_method: method.toUpperCase() } : {}), ...(url !== undefined ? { url: { url_string: url } } : {}) } }
        : {}),
      ...(control ?? {}),
      ...(view.policy?.name !== undefined ? { policy: { name: view.policy.name, ...(view.policy.hash ? { uid: view.policy.hash } : {}) } } : {}),
      ...(aiAgent ? { ai_agent: aiAgent } : {}),
      unmapped: {
        agentguard: { seq: r.seq, type: r.type, rules: r.rules, prev_hash: r.prevHash, hash: r.hash, data: r.data },
        ...(model && !aiModel ? { model: model.name } : {}),
      },
    };
  }
}
