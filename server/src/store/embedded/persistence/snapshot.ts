/**
 * Snapshot file: header, then records
 *   { t: 'meta', lastSeq: Long, journalGen: Long, createdAt: Date }
 *   per collection: { t: 'coll', db, coll, options, indexes } followed by { t: 'docs', docs: [...] }*
 *   { t: 'end', collections: int, docs: Long }
 * Written to a temp file, fsynced and renamed into place, so a visible snapshot is always
 * complete; any damage found while reading it is reported, never skipped.
 */
import { BSON, Long } from 'bson';
import type { Document } from 'bson';
import { open, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { CollectionImage, RecoveredState } from './contract.ts';
import { decodeIndex, deserialize, expectDocument, expectString, frameDocument, frameDocumentWithArray, toNumber } from './bson-codec.ts';
import { checkFileHeader, encodeFileHeader, FILE_HEADER_BYTES } from './framing.ts';
import { fsyncDir, removeIfExists, SNAPSHOT_FILE, TEMP_SUFFIX } from './files.ts';
import { RecordReader } from './record-reader.ts';

/** Docs per record are cut at this size; each cut is also where the event loop gets a turn. */
const DOCS_RECORD_BYTES = 1024 * 1024;

export interface SnapshotMeta {
  /** Every journal batch with seq <= lastSeq is reflected in the snapshot. */
  lastSeq: number;
  /** First journal generation written after the snapshot's cut; older journals are obsolete. */
  journalGen: number;
}

export interface LoadedSnapshot {
  meta: SnapshotMeta;
  collections: RecoveredState['collections'];
  docCount: number;
}

export async function writeSnapshotFile(dir: string, meta: SnapshotMeta, collections: Iterable<CollectionImage>): Promise<void> {
  const finalPath = path.join(dir, SNAPSHOT_FILE);
  const tempPath = finalPath + TEMP_SUFFIX;
  const fh = await open(tempPath, 'w');
  try {
    let position = 0;
    const write = async (buffer: Buffer): Promise<void> => {
      await writeFully(fh, buffer, position);
      position += buffer.length;
    };
    await write(encodeFileHeader('snapshot'));
    await write(frameDocument({ t: 'meta', lastSeq: Long.fromNumber(meta.lastSeq), journalGen: Long.fromNumber(meta.journalGen), createdAt: new Date() }));
    let collectionCount = 0;
    let docCount = 0;
    for (const image of collections) {
      collectionCount++;
      await write(frameDocument({ t: 'coll', db: image.db, coll: image.coll, options: image.options, indexes: image.indexes }));
      let chunk: Uint8Array[] = [];
      let chunkBytes = 0;
      for (const doc of image.docs) {
        const bytes = doc instanceof Uint8Array ? doc : BSON.serialize(doc);
        chunk.push(bytes);
        chunkBytes += bytes.length;
        docCount++;
        if (chunkBytes >= DOCS_RECORD_BYTES) {
          await write(frameDocumentWithArray({ t: 'docs' }, 'docs', chunk));
          chunk = [];
          chunkBytes = 0;
        }
      }
      if (chunk.length > 0) await write(frameDocumentWithArray({ t: 'docs' }, 'docs', chunk));
    }
    await write(frameDocument({ t: 'end', collections: collectionCount, docs: Long.fromNumber(docCount) }));
    await fh.sync();
  } catch (error) {
    await fh.close();
    await removeIfExists(tempPath);
    throw error;
  }
  await fh.close();
  await rename(tempPath, finalPath);
  await fsyncDir(dir);
}

async function writeFully(fh: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < buffer.length) {
    const { bytesWritten } = await fh.write(buffer, written, buffer.length - written, position + written);
    if (bytesWritten === 0) throw new Error('snapshot write made no progress');
    written += bytesWritten;
  }
}

export async function readSnapshotFile(dir: string): Promise<LoadedSnapshot> {
  const file = path.join(dir, SNAPSHOT_FILE);
  const corrupt = (offset: number, reason: string): Error =>
    new Error(`corrupt snapshot ${file} at offset ${offset}: ${reason}. A snapshot only becomes visible once fully written and fsynced, so this is real damage; restore the file or remove it to start from the journal alone.`);
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const header = Buffer.alloc(Math.min(size, FILE_HEADER_BYTES));
    await fh.read(header, 0, header.length, 0);
    const headerProblem = checkFileHeader('snapshot', header);
    if (headerProblem) throw corrupt(0, headerProblem);

    const reader = new RecordReader(fh, size, FILE_HEADER_BYTES);
    let meta: SnapshotMeta | null = null;
    const collections: LoadedSnapshot['collections'] = [];
    let docCount = 0;
    for (;;) {
      const result = await reader.next();
      if (result.kind === 'eof') throw corrupt(size, 'ended before its end record');
      if (result.kind === 'bad') throw corrupt(result.offset, result.reason);
      let record: Document;
      try {
        // Documents stay BSON: embedded documents come back undecoded, and any record but a
        // docs record (collection options, index definitions) is then decoded whole.
        record = deserialize(result.payload, 'nested');
        if (record.t !== 'docs') record = deserialize(result.payload);
      } catch (error) {
        throw corrupt(result.offset, `undecodable record: ${(error as Error).message}`);
      }
      try {
        if (meta === null) {
          if (record.t !== 'meta') throw new Error('first record is not the meta record');
          meta = { lastSeq: toNumber(record.lastSeq, 'lastSeq'), journalGen: toNumber(record.journalGen, 'journalGen') };
          continue;
        }
        if (record.t === 'coll') {
          if (!Array.isArray(record.indexes)) throw new Error('collection indexes is not an array');
          collections.push({
            db: expectString(record.db, 'db'),
            coll: expectString(record.coll, 'coll'),
            options: expectDocument(record.options, 'collection options'),
            indexes: record.indexes.map(decodeIndex),
            docs: [],
          });
        } else if (record.t === 'docs') {
          const target = collections.at(-1);
          if (!target) throw new Error('docs record before any collection record');
          if (!Array.isArray(record.docs)) throw new Error('docs is not an array');
          for (const doc of record.docs as unknown[]) {
            if (!(doc instanceof Uint8Array)) throw new Error('docs holds a value that is not a document');
            // Copied so a document that outlives its neighbours does not pin the whole record.
            target.docs.push(Buffer.from(doc));
          }
          docCount += record.docs.length;
        } else if (record.t === 'end') {
          if (toNumber(record.collections, 'collection count') !== collections.length || toNumber(record.docs, 'doc count') !== docCount) {
            throw new Error('end record counts do not match the records read');
          }
          if (result.end !== size) throw new Error('data after the end record');
          return { meta, collections, docCount };
        } else {
          throw new Error(`unknown record type ${String(record.t)}`);
        }
      } catch (error) {
        throw corrupt(result.offset, (error as Error).message);
      }
    }
  } finally {
    await fh.close();
  }
}
