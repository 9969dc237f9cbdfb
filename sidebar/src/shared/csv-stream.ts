import { ApiError } from './api.ts';

export interface CsvProgress { rows: number; total: number | null }

/**
 * Downloads a streamed CSV while counting its rows, so a large export shows a progress bar instead
 * of a frozen button: rows read so far against the server's X-Total-Count (header line excluded).
 * Newlines inside quoted cells are not rows; the parser tracks quotes across chunks for that.
 */
export async function fetchCsv(url: string, onProgress: (p: CsvProgress) => void, signal?: AbortSignal): Promise<Blob> {
  const res = await fetch(url, { credentials: 'same-origin', signal, headers: { accept: 'text/csv' } });
  if (!res.ok) {
    const text = await res.text();
    let message = res.statusText;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      /* an HTML error page: keep the status text */
    }
    throw new ApiError(res.status, 'http_error', message);
  }
  const totalHeader = res.headers.get('x-total-count');
  const total = totalHeader === null || totalHeader === '' || !Number.isFinite(Number(totalHeader)) ? null : Number(totalHeader);
  const chunks: Uint8Array[] = [];
  const counter = rowCounter();
  onProgress({ rows: 0, total });
  if (!res.body) {
    const text = await res.text();
    onProgress({ rows: counter(text, true), total });
    return new Blob([text], { type: 'text/csv;charset=utf-8' });
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let rows = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    rows = counter(decoder.decode(value, { stream: true }), false);
    onProgress({ rows, total });
  }
  rows = counter(decoder.decode(), true);
  onProgress({ rows, total });
  return new Blob(chunks as BlobPart[], { type: 'text/csv;charset=utf-8' });
}

/** Counts data rows (lines after the header) of CSV text fed in pieces; `end` counts an unterminated last line. */
export function rowCounter(): (text: string, end: boolean) => number {
  let lines = 0;
  let quoted = false;
  let pending = false; // characters after the last newline
  return (text, end) => {
    for (const ch of text) {
      if (ch === '"') quoted = !quoted;
      if (ch === '\n' && !quoted) {
        lines++;
        pending = false;
      } else if (ch !== '\r' && ch !== '\uFEFF') pending = true;
    }
    const complete = end && pending ? lines + 1 : lines;
    if (end) pending = false, (lines = complete);
    return Math.max(0, complete - 1);
  };
}

/** Hands a blob to the browser as a download. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
