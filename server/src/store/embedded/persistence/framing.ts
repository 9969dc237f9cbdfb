/**
 * Record framing shared by journal and snapshot files:
 *   file   = header (magic, version) + record*
 *   record = [uint32 LE payload length][uint32 LE CRC-32 of payload][payload: one BSON document]
 */
import { crc32 } from '../crc.ts';

export const FRAME_HEADER_BYTES = 8;
/** Anything longer is a corrupt length field: writers split batches well below this. */
export const MAX_RECORD_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** Smallest BSON document (`{}`) is 5 bytes. */
export const MIN_RECORD_PAYLOAD_BYTES = 5;

export const FILE_HEADER_BYTES = 16;
export const FORMAT_VERSION = 1;

export type FileKind = 'journal' | 'snapshot';
const MAGIC: Record<FileKind, string> = { journal: 'SCRMJNL\0', snapshot: 'SCRMSNP\0' };

export function encodeFileHeader(kind: FileKind): Buffer {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  header.write(MAGIC[kind], 0, 'latin1');
  header.writeUInt32LE(FORMAT_VERSION, 8);
  return header;
}

/** Returns a reason string when the header is not a valid header of this kind, else null. */
export function checkFileHeader(kind: FileKind, header: Buffer): string | null {
  if (header.length < FILE_HEADER_BYTES) return `file shorter than its ${FILE_HEADER_BYTES}-byte header`;
  if (header.toString('latin1', 0, 8) !== MAGIC[kind]) return `not a ${kind} file (bad magic)`;
  const version = header.readUInt32LE(8);
  if (version !== FORMAT_VERSION) return `unsupported ${kind} format version ${version}`;
  return null;
}

/** Fills in length and CRC for a buffer whose payload starts at FRAME_HEADER_BYTES. */
export function sealRecord(record: Buffer): Buffer {
  const payload = record.subarray(FRAME_HEADER_BYTES);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(crc32(payload), 4);
  return record;
}
