import type { AuditRecord } from '../types.js';

/** Where an exporter writes: a stream wrapper, or a string collector in tests. */
export interface ExportWriter {
  write(text: string): unknown;
}

/** The export formats of `agentguard audit export`. */
export const EXPORT_FORMATS = ['jsonl', 'csv', 'cef', 'ocsf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * One export format. Every format implements this one interface and writes text to the writer it is given, so the
 * caller decides where the output goes (stdout or a file) and records can be streamed one at a time.
 */
export interface AuditExporter {
  readonly format: ExportFormat;
  /** Writes what comes before the first record (the CSV header row); many formats write nothing. */
  begin(out: ExportWriter): void;
  /** Writes one record. */
  record(record: AuditRecord, out: ExportWriter): void;
  /** Writes what comes after the last record. */
  end(out: ExportWriter): void;
}

/** What some formats put in their output about the product that wrote it. */
export interface ExporterOptions {
  /** agentguard's version (CEF header, OCSF metadata.product.version). */
  productVersion: string;
}
