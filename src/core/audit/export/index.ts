import { once } from 'node:events';
import type { AuditRecord } from '../types.js';
import { CefExporter } from './cef.js';
import { CsvExporter } from './csv.js';
import { EXPORT_FORMATS, type AuditExporter, type ExporterOptions, type ExportFormat, type ExportWriter } from './exporter.js';
import { JsonlExporter } from './jsonl.js';
import { OcsfExporter } from './ocsf.js';

/** The exporter for a format name. */
export function createExporter(format: ExportFormat, options: ExporterOptions): AuditExporter {
  switch (format) {
    case 'jsonl':
      return new JsonlExporter();
    case 'csv':
      return new CsvExporter();
    case 'cef':
      return new CefExporter(options);
    case 'ocsf':
      return new OcsfExporter(options);
  }
}

/**
 * Writes records through an exporter into a stream (process.stdout, a file stream), one at a time, pausing whenever the stream's buffer is full, so an
 * export of any size runs in constant memory. `onRecord` is called after each record with the count so far.
 *
 * @example
 * const n = await writeExport(store.audit.scan(), createExporter('csv', { productVersion }), process.stdout);
 */
export async function writeExport(
  records: AsyncIterable<AuditRecord> | Iterable<AuditRecord>,
  exporter: AuditExporter,
  stream: NodeJS.WritableStream,
  onRecord?: (count: number) => void,
): Promise<number> {
  let full = false;
  const out: ExportWriter = {
    write(text: string) {
      if (!stream.write(text)) full = true;
    },
  };
  const drain = async () => {
    if (!full) return;
    full = false;
    await once(stream, 'drain');
  };
  let count = 0;
  exporter.begin(out);
  await drain();
  for await (const record of records) {
    exporter.record(record, out);
    count++;
    onRecord?.(count);
    await drain();
  }
  exporter.end(out);
  await drain();
  return count;
}

export { EXPORT_FORMATS, CefExporter, CsvExporter, JsonlExporter, OcsfExporter };
export type { AuditExporter, ExporterOptions, ExportFormat, ExportWriter };
