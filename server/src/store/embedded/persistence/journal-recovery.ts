/**
 * Replays journal files in generation order. The first torn or corrupt record ends the log:
 * the file is truncated there (so the next append continues from a clean point) and any later
 * journal files are set aside, because replaying past a hole would apply ops out of context.
 */
import { open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { JournalOp } from './contract.ts';
import { checkFileHeader, FILE_HEADER_BYTES } from './framing.ts';
import { DISCARDED_SUFFIX, journalFileName } from './files.ts';
import { decodeRecord } from './journal-codec.ts';
import { RecordReader } from './record-reader.ts';

export interface JournalReplay {
  ops: JournalOp[];
  /** Highest seq seen in a complete batch (0 when none). */
  lastSeq: number;
  droppedTailBytes: number;
  /** Generations still live after recovery, ascending, with their record bytes. */
  live: Array<{ gen: number; recordBytes: number }>;
  /** Where the next record goes in the last live journal. */
  appendPosition: number;
  /** Human-readable reason when a tail was dropped, for logs. */
  tornReason: string | null;
}

interface FileReplay {
  validEnd: number;
  size: number;
  lastSeq: number;
  tornReason: string | null;
}

export async function replayJournals(dir: string, gens: readonly number[], afterSeq: number): Promise<JournalReplay> {
  const result: JournalReplay = { ops: [], lastSeq: 0, droppedTailBytes: 0, live: [], appendPosition: FILE_HEADER_BYTES, tornReason: null };
  for (const [i, gen] of gens.entries()) {
    const file = path.join(dir, journalFileName(gen));
    const replay = await replayFile(file, afterSeq, result.ops);
    result.lastSeq = Math.max(result.lastSeq, replay.lastSeq);
    result.live.push({ gen, recordBytes: replay.validEnd - FILE_HEADER_BYTES });
    result.appendPosition = replay.validEnd;
    if (replay.tornReason === null) continue;

    result.tornReason = `${path.basename(file)} at offset ${replay.validEnd}: ${replay.tornReason}`;
    result.droppedTailBytes += replay.size - replay.validEnd;
    await truncate(file, replay.validEnd);
    for (const laterGen of gens.slice(i + 1)) {
      const later = path.join(dir, journalFileName(laterGen));
      result.droppedTailBytes += (await stat(later)).size;
      await rename(later, later + DISCARDED_SUFFIX);
    }
    break;
  }
  return result;
}

async function replayFile(file: string, afterSeq: number, sink: JournalOp[]): Promise<FileReplay> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const header = Buffer.alloc(FILE_HEADER_BYTES);
    await fh.read(header, 0, FILE_HEADER_BYTES, 0);
    // Journals appear only via rename after their header is fsynced, so a bad header is not a torn write.
    const headerProblem = checkFileHeader('journal', size < FILE_HEADER_BYTES ? header.subarray(0, size) : header);
    if (headerProblem) throw new Error(`corrupt journal ${file}: ${headerProblem}`);

    const reader = new RecordReader(fh, size, FILE_HEADER_BYTES);
    let validEnd = FILE_HEADER_BYTES;
    let lastSeq = 0;
    // Parts of a split batch, held back until its last part proves the batch complete.
    let pending: { seq: number; ops: JournalOp[][] } | null = null;
    for (;;) {
      const result = await reader.next();
      if (result.kind === 'eof') break;
      if (result.kind === 'bad') return { validEnd, size, lastSeq, tornReason: result.reason };
      let record;
      try {
        record = decodeRecord(result.payload);
      } catch (error) {
        return { validEnd, size, lastSeq, tornReason: `undecodable record: ${(error as Error).message}` };
      }
      const expectedPart = pending ? pending.ops.length : 0;
      if (record.part !== expectedPart || (pending && record.seq !== pending.seq)) {
        return { validEnd, size, lastSeq, tornReason: `batch part out of sequence (seq ${record.seq} part ${record.part})` };
      }
      pending ??= { seq: record.seq, ops: [] };
      pending.ops.push(record.ops);
      if (!record.last) continue;

      if (pending.seq > afterSeq) for (const ops of pending.ops) for (const op of ops) sink.push(op);
      lastSeq = pending.seq;
      validEnd = result.end;
      pending = null;
    }
    const tornReason = pending ? `batch seq ${pending.seq} is missing its last part` : null;
    return { validEnd, size, lastSeq, tornReason };
  } finally {
    await fh.close();
  }
}

async function truncate(file: string, length: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.truncate(length);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
