import { ZodError } from 'zod';
import type { Logger } from '../observability/index.ts';
import { decodeUtf8, parseCsv, type CsvRow, type Rejection } from './csv.ts';
import type { LeadOutcome } from '../identity/index.ts';
import { IMPORT_SPECS, type ImportKind, type ImportKindSpec, type ImportOptions, type ImportTargets } from './kinds.ts';
import type { ContactConflict } from './ownership.ts';

/** A value of the file the import did not write, because another source (WeCom, a lead form) owns it. */
export interface ImportConflict extends ContactConflict {
  line: number;
}

export interface ImportReport {
  inserted: number;
  updated: number;
  rejected: Rejection[];
  /** Present when some row offered values the pool kept (contacts import), by line. */
  conflicts?: ImportConflict[];
  /** Present when the operator let the import create placeholder reps: the ones it created or reused. */
  placeholderReps?: string[];
}

/**
 * A lead import's answer: the match report on top of the common one. `inserted` counts new leads
 * (matched + probable + unmatched), `unchanged` the lead_ids already imported; rejections carry
 * their message as `reason` too, the name the match report uses (`error` keeps the Import page working).
 */
export interface LeadImportReport extends ImportReport {
  matched: number;
  probable: number;
  unmatched: number;
  unchanged: number;
  rejected: Array<Rejection & { reason: string }>;
}

export interface ImportProgress {
  done: number;
  total: number;
}

/** Rows written per round trip: large enough to be fast, small enough to report progress. */
const BATCH = 500;

/**
 * Imports one CSV file: the same code behind `POST /api/admin/import/:kind` and `npm run import`.
 * A file that is not a CSV of this kind is refused whole (CsvFileError); otherwise every good row
 * is written, idempotently on its natural key, and every bad one is reported with its line.
 */
export class Importer {
  constructor(private readonly targets: ImportTargets, private readonly logger: Logger) {}

  async run(
    kind: ImportKind,
    bytes: Uint8Array,
    onProgress?: (progress: ImportProgress) => void,
    options: ImportOptions = { createPlaceholderReps: false },
  ): Promise<ImportReport | LeadImportReport> {
    const text = decodeUtf8(bytes);
    // One call per kind so each spec keeps its own row type.
    switch (kind) {
      case 'channels':
        return (await this.importRows(kind, IMPORT_SPECS.channels, text, options, onProgress)).report;
      case 'contacts':
        return (await this.importRows(kind, IMPORT_SPECS.contacts, text, options, onProgress)).report;
      case 'orders':
        return (await this.importRows(kind, IMPORT_SPECS.orders, text, options, onProgress)).report;
      case 'leads': {
        if (!this.targets.identity) throw new Error('lead import needs the identity module (ImportTargets.identity)');
        const { report, leads } = await this.importRows(kind, IMPORT_SPECS.leads, text, options, onProgress);
        return { inserted: report.inserted, updated: report.updated, ...leads, rejected: report.rejected.map((r) => ({ ...r, reason: r.error })) };
      }
    }
  }

  private async importRows<Row>(
    kind: ImportKind,
    spec: ImportKindSpec<Row>,
    text: string,
    options: ImportOptions,
    onProgress?: (progress: ImportProgress) => void,
  ): Promise<{ report: ImportReport; leads: Record<LeadOutcome, number> }> {
    const { rows, rejected } = parseCsv(text, spec.columns, spec.optionalColumns);
    const schema = spec.row(this.targets.timeZone);
    const leads: Record<LeadOutcome, number> = { matched: 0, probable: 0, unmatched: 0, unchanged: 0 };
    const report: ImportReport = { inserted: 0, updated: 0, rejected };
    const conflicts: ImportConflict[] = [];
    const placeholderReps = new Set<string>();
    onProgress?.({ done: 0, total: rows.length });
    for (let i = 0; i < rows.length; i += BATCH) {
      const batch = rows.slice(i, i + BATCH);
      const readable: Array<{ line: number; row: Row }> = [];
      for (const csvRow of batch) {
        const read = readRow(schema, csvRow);
        if ('error' in read) report.rejected.push({ line: csvRow.line, error: read.error });
        else readable.push({ line: csvRow.line, row: read.row });
      }
      if (readable.length > 0) {
        const outcomes = await spec.apply(readable.map((r) => r.row), this.targets, options);
        outcomes.forEach((outcome, j) => {
          const { line } = readable[j]!;
          if (outcome === 'inserted') report.inserted++;
          else if (outcome === 'updated') report.updated++;
          else if ('written' in outcome) {
            report[outcome.written]++;
            conflicts.push(...outcome.conflicts.map((c) => ({ line, ...c })));
            if (outcome.placeholderRep) placeholderReps.add(outcome.placeholderRep);
          } else if ('lead' in outcome) {
            leads[outcome.lead]++;
            if (outcome.lead !== 'unchanged') report.inserted++;
          } else if (outcome.code) report.rejected.push({ line, error: `第 ${line} 行：${outcome.error}`, code: outcome.code });
          else report.rejected.push({ line, error: outcome.error });
        });
      }
      onProgress?.({ done: Math.min(i + BATCH, rows.length), total: rows.length });
    }
    report.rejected.sort((a, b) => a.line - b.line);
    // Only when there are any: the answer of an import without them stays as it always was.
    if (conflicts.length > 0) report.conflicts = conflicts;
    if (placeholderReps.size > 0) report.placeholderReps = [...placeholderReps];
    this.logger.info({ kind, rows: rows.length, inserted: report.inserted, updated: report.updated, rejected: report.rejected.length, conflicts: conflicts.length, placeholderReps: placeholderReps.size }, 'CSV imported');
    return { report, leads };
  }
}

function readRow<Row>(schema: { parse(input: unknown): Row }, row: CsvRow): { row: Row } | { error: string } {
  try {
    return { row: schema.parse(row.values) };
  } catch (err) {
    if (err instanceof ZodError) return { error: err.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; ') };
    throw err;
  }
}
