import { Writable } from 'node:stream';
import type { Action, Decision } from '../../src/core/action.js';
import { createExporter, EXPORT_FORMATS, writeExport } from '../../src/core/audit/export/index.js';
import type { AuditRecord } from '../../src/core/audit/types.js';

/** An allow decision for `action`, shaped as the pipeline returns one. */
export function decisionOf(action: Action): Decision {
  return {
    id: `dec_${Math.random().toString(36).slice(2, 12)}`,
    effect: 'allow',
    action,
    reasons: [{ rule: 'r', effect: 'allow', message: 'ok' }],
    findings: [],
    policy: { name: 'p', hash: `sha256:${'ab'.repeat(32)}` },
    elapsedUs: 3,
  };
}

/** The records written in every export format, one after the other, as one text. */
export async function exportAll(records: AuditRecord[]): Promise<string> {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  for (const format of EXPORT_FORMATS) await writeExport(records, createExporter(format, { productVersion: '0.0.0' }), sink);
  return text;
}
