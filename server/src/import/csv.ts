import { parse } from 'csv-parse/sync';

/** A CSV problem that makes the whole file unusable (answered 400 before any row is imported). */
export class CsvFileError extends Error {}

export interface CsvRow {
  /** 1-based line in the file where the record starts (the header is line 1). */
  line: number;
  values: Record<string, string>;
}

export interface Rejection {
  line: number;
  error: string;
  /** A machine code, for refusals an operator may act on (e.g. `unknown_rep`). */
  code?: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** UTF-8 text of an upload; spreadsheets often save GBK, which we refuse rather than garble names. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new CsvFileError('the file is not UTF-8 text (save it as "CSV UTF-8" and upload again)');
  }
}

/**
 * Parses a CSV with a header row naming exactly `columns` (any order), plus any of `optional`
 * (a row of a file without one reads it as ''). Records that cannot be read
 * (an unclosed quote, a wrong number of fields) are rejected with their line; the rest go on.
 */
export function parseCsv(text: string, columns: readonly string[], optional: readonly string[] = []): { rows: CsvRow[]; rejected: Rejection[] } {
  const rejected: Rejection[] = [];
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // One line ending everywhere, so csv-parse's line counts are file lines.
    records = parse(text.replace(/\r\n?/g, '\n'), {
      bom: true,
      info: true,
      trim: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        if (err) rejected.push({ line: (err as { lines?: number }).lines ?? 0, error: err.message });
      },
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>; // csv-parse types ignore `info: true`
  } catch (err) {
    throw new CsvFileError(`the file cannot be read as CSV: ${(err as Error).message}`);
  }
  const [header, ...body] = records;
  if (!header) throw new CsvFileError(`the file is empty: expected a header row ${columns.join(',')}`);
  const names = header.record.map((name) => name.toLowerCase());
  const missing = columns.filter((c) => !names.includes(c));
  const extra = names.filter((n) => !columns.includes(n) && !optional.includes(n));
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (missing.length > 0 || extra.length > 0 || repeated.length > 0) {
    throw new CsvFileError(
      `line 1 must be the header ${columns.join(',')}` +
        (optional.length > 0 ? ` (optionally also ${optional.join(',')})` : '') +
        (missing.length > 0 ? `; missing: ${missing.join(', ')}` : '') +
        (extra.length > 0 ? `; unknown: ${extra.join(', ')}` : '') +
        (repeated.length > 0 ? `; repeated: ${repeated.join(', ')}` : ''),
    );
  }
  const rows = body.map(({ record, info }) => ({
    // csv-parse counts to a record's last line; a quoted field may span several.
    line: info.lines - record.reduce((n, field) => n + (field.match(/\n/g)?.length ?? 0), 0),
    values: { ...Object.fromEntries(optional.map((name) => [name, ''])), ...Object.fromEntries(names.map((name, i) => [name, record[i] ?? ''])) },
  }));
  return { rows, rejected };
}
