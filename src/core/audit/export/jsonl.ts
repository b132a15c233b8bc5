import type { AuditRecord } from '../types.js';
import type { AuditExporter, ExportWriter } from './exporter.js';

/** JSON Lines: one record per line, exactly as stored (seq, prevHash and hash included), so it can be re-verified. */
export class JsonlExporter implements AuditExporter {
  readonly format = 'jsonl' as const;

  begin(): void {}

  record(record: AuditRecord, out: ExportWriter): void {
    out.write(`${JSON.stringify(record)}\n`);
  }

  end(): void {}
}
