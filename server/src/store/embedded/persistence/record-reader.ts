/** Sequential, chunked reader of framed records, so a multi-GB file never needs one buffer. */
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from '../crc.ts';
import { FRAME_HEADER_BYTES, MAX_RECORD_PAYLOAD_BYTES, MIN_RECORD_PAYLOAD_BYTES } from './framing.ts';

const CHUNK_BYTES = 8 * 1024 * 1024;

export type ReadResult =
  | { kind: 'record'; offset: number; end: number; payload: Buffer }
  | { kind: 'eof' }
  | { kind: 'bad'; offset: number; reason: string };

export class RecordReader {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  private pos: number;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
    start: number,
  ) {
    this.pos = start;
  }

  async next(): Promise<ReadResult> {
    const offset = this.pos;
    if (offset === this.size) return { kind: 'eof' };
    if (this.size - offset < FRAME_HEADER_BYTES) return { kind: 'bad', offset, reason: 'short record header' };
    const header = await this.bytes(offset, FRAME_HEADER_BYTES);
    const length = header.readUInt32LE(0);
    const expectedCrc = header.readUInt32LE(4);
    if (length < MIN_RECORD_PAYLOAD_BYTES || length > MAX_RECORD_PAYLOAD_BYTES) {
      return { kind: 'bad', offset, reason: `implausible record length ${length}` };
    }
    const end = offset + FRAME_HEADER_BYTES + length;
    if (end > this.size) return { kind: 'bad', offset, reason: `record truncated (${end - this.size} bytes missing)` };
    // Copied out of the read chunk: deserialised Binary values keep a view of their source
    // buffer, and should pin one record rather than a whole chunk.
    const payload = Buffer.from(await this.bytes(offset + FRAME_HEADER_BYTES, length));
    if (crc32(payload) !== expectedCrc) return { kind: 'bad', offset, reason: 'CRC mismatch' };
    this.pos = end;
    return { kind: 'record', offset, end, payload };
  }

  private async bytes(from: number, n: number): Promise<Buffer> {
    if (from < this.bufStart || from + n > this.bufStart + this.buf.length) {
      const want = Math.min(Math.max(CHUNK_BYTES, n), this.size - from);
      const chunk = Buffer.allocUnsafe(want);
      let filled = 0;
      while (filled < want) {
        const { bytesRead } = await this.fh.read(chunk, filled, want - filled, from + filled);
        if (bytesRead === 0) throw new Error(`file shrank while being read (at offset ${from + filled})`);
        filled += bytesRead;
      }
      this.buf = chunk;
      this.bufStart = from;
    }
    return this.buf.subarray(from - this.bufStart, from - this.bufStart + n);
  }
}
