/** MongoDB wire protocol framing: OP_QUERY/OP_REPLY for the handshake, OP_MSG for everything else. */
import { BSON } from 'bson';
import type { Document, Long } from 'bson';
import { cursorReply } from './bson-compose.ts';
import type { ReplyDoc } from './cursors.ts';
import { checkDocument, decodeStored } from './raw-bson.ts';
import { crc32c } from './crc.ts';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const MAX_MESSAGE_BYTES = 48_000_000;
export const MAX_BSON_BYTES = 16 * 1024 * 1024;

const CHECKSUM_PRESENT = 1;
export const MORE_TO_COME = 2;

export interface Header {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export type Inbound =
  | { kind: 'query'; header: Header; collection: string; query: Document }
  | { kind: 'msg'; header: Header; moreToCome: boolean; body: Document };

export class ProtocolError extends Error {}

/**
 * The exact bytes of each document in a command's document sequences (e.g. insert's `documents`),
 * keyed by the parsed command body: inserts store and journal them without decoding them at all.
 * Held only as long as the command body itself.
 */
const rawSequences = new WeakMap<Document, Map<string, Uint8Array[]>>();

export function rawSequence(cmd: Document, field: string): Uint8Array[] | undefined {
  return rawSequences.get(cmd)?.get(field);
}

function documentBytes(buf: Buffer, at: number, end = buf.length): Buffer {
  if (at + 5 > end) throw new ProtocolError('truncated BSON document');
  const size = buf.readInt32LE(at);
  if (size < 5 || at + size > end) throw new ProtocolError(`invalid BSON document size ${size}`);
  return buf.subarray(at, at + size);
}

function readDocument(buf: Buffer, at: number): { doc: Document; end: number } {
  const bytes = documentBytes(buf, at);
  return { doc: decodeStored(bytes), end: at + bytes.length };
}

/** Sequence documents are checked now (a bad one fails the message) and decoded only if a handler reads them. */
function readSequenceDocument(buf: Buffer, at: number, end: number): Buffer {
  const bytes = documentBytes(buf, at, end);
  try {
    checkDocument(bytes);
  } catch (err) {
    throw new ProtocolError(`invalid BSON document: ${(err as Error).message}`);
  }
  return bytes;
}

function defineDecodedOnRead(body: Document, field: string, raws: Uint8Array[]): void {
  const settle = (value: unknown): void => {
    Object.defineProperty(body, field, { value, writable: true, enumerable: true, configurable: true });
  };
  Object.defineProperty(body, field, {
    enumerable: true,
    configurable: true,
    get: () => {
      const docs = raws.map(decodeStored);
      settle(docs);
      return docs;
    },
    set: settle,
  });
}

function readCString(buf: Buffer, at: number): { s: string; end: number } {
  const z = buf.indexOf(0, at);
  if (z < 0) throw new ProtocolError('unterminated cstring');
  return { s: buf.toString('utf8', at, z), end: z + 1 };
}

export function readHeader(buf: Buffer): Header {
  return { length: buf.readInt32LE(0), requestId: buf.readInt32LE(4), responseTo: buf.readInt32LE(8), opCode: buf.readInt32LE(12) };
}

/** Parses one complete message (header included). Throws ProtocolError on anything malformed. */
export function parseMessage(buf: Buffer): Inbound {
  const header = readHeader(buf);
  if (header.opCode === OP_QUERY) {
    const { s: collection, end } = readCString(buf, 20);
    const { doc: query } = readDocument(buf, end + 8);
    return { kind: 'query', header, collection, query };
  }
  if (header.opCode !== OP_MSG) throw new ProtocolError(`unsupported opCode ${header.opCode}`);
  const flags = buf.readUInt32LE(16);
  if (flags & ~(CHECKSUM_PRESENT | MORE_TO_COME | 0x10000)) throw new ProtocolError(`unknown required OP_MSG flags ${flags}`);
  let end = buf.length;
  if (flags & CHECKSUM_PRESENT) {
    end -= 4;
    if (end < 21) throw new ProtocolError('OP_MSG too short for checksum');
    if (crc32c(buf.subarray(0, end)) !== buf.readUInt32LE(end)) throw new ProtocolError('OP_MSG checksum mismatch');
  }
  let body: Document | undefined;
  const sequences: Array<[string, Uint8Array[]]> = [];
  let at = 20;
  while (at < end) {
    const kind = buf[at++];
    if (kind === 0) {
      if (body) throw new ProtocolError('OP_MSG has more than one body section');
      const r = readDocument(buf, at);
      body = r.doc;
      at = r.end;
    } else if (kind === 1) {
      if (at + 4 > end) throw new ProtocolError('truncated document sequence');
      const seqEnd = at + buf.readInt32LE(at);
      if (seqEnd > end || seqEnd < at + 5) throw new ProtocolError('invalid document sequence size');
      const id = readCString(buf, at + 4);
      const raws: Uint8Array[] = [];
      for (let p = id.end; p < seqEnd; ) {
        const raw = readSequenceDocument(buf, p, seqEnd);
        raws.push(raw);
        p += raw.length;
      }
      sequences.push([id.s, raws]);
      at = seqEnd;
    } else throw new ProtocolError(`unknown OP_MSG section kind ${String(kind)}`);
  }
  if (!body) throw new ProtocolError('OP_MSG without a body section');
  // Document sequences are the same as array fields of the body (e.g. insert's `documents`).
  for (const [id, raws] of sequences) defineDecodedOnRead(body, id, raws);
  if (sequences.length) rawSequences.set(body, new Map(sequences));
  return { kind: 'msg', header, moreToCome: (flags & MORE_TO_COME) !== 0, body };
}

let nextRequestId = 1;

const MSG_PREFIX_BYTES = 21;

export function encodeMsg(responseTo: number, body: Document): Buffer {
  const out = encodeBody(body, MSG_PREFIX_BYTES);
  writeHeader(out, responseTo, OP_MSG);
  out.writeUInt32LE(0, 16);
  out[20] = 0;
  return out;
}

/**
 * The body after `reserve` bytes. A cursor batch may carry stored documents as their BSON
 * (Uint8Array, see cursors.ts): those are spliced in as they are, never decoded or re-encoded.
 */
function encodeBody(body: Document, reserve: number): Buffer {
  const cursor = body.cursor as { firstBatch?: ReplyDoc[]; nextBatch?: ReplyDoc[]; id: Long; ns: string } | undefined;
  const field = cursor?.firstBatch ? 'firstBatch' : cursor?.nextBatch ? 'nextBatch' : undefined;
  const batch = field && cursor?.[field];
  if (cursor && field && batch?.some((d) => d instanceof Uint8Array)) {
    return cursorReply(field, batch.map((d) => (d instanceof Uint8Array ? d : BSON.serialize(d))), cursor.id, cursor.ns, reserve);
  }
  const doc = BSON.serialize(body);
  const out = Buffer.allocUnsafe(reserve + doc.length);
  out.set(doc, reserve);
  return out;
}

export function encodeReply(responseTo: number, doc: Document): Buffer {
  const out = encodeBody(doc, 36);
  writeHeader(out, responseTo, OP_REPLY);
  out.writeInt32LE(0, 16); // responseFlags
  out.writeBigInt64LE(0n, 20); // cursorID
  out.writeInt32LE(0, 28); // startingFrom
  out.writeInt32LE(1, 32); // numberReturned
  return out;
}

function writeHeader(out: Buffer, responseTo: number, opCode: number): void {
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(nextRequestId, 4);
  nextRequestId = (nextRequestId + 1) & 0x7fffffff;
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(opCode, 12);
}

