/** Ties lock, snapshot, journal replay and the journal writer into the contract's Persistence. */
import { mkdirSync, realpathSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import type { CollectionImage, JournalOp, Persistence, PersistenceOptions, RecoveredState } from './contract.ts';
import { createJournalFile, journalFileName, listDir, removeIfExists } from './files.ts';
import { encodeBatch, serializeOps } from './journal-codec.ts';
import { replayJournals } from './journal-recovery.ts';
import { JournalWriter } from './journal-writer.ts';
import { lockDirectory } from './lock.ts';
import { readSnapshotFile, writeSnapshotFile } from './snapshot.ts';
import type { LoadedSnapshot } from './snapshot.ts';

const POLICIES = new Set(['always', 'batch', 'never']);

export function createPersistence(options: PersistenceOptions): Persistence {
  if (!POLICIES.has(options.fsync)) throw new Error(`unknown fsync policy ${String(options.fsync)} (expected always, batch or never)`);
  mkdirSync(options.dir, { recursive: true });
  const dir = realpathSync(options.dir);
  const lock = lockDirectory(dir);

  let state: 'new' | 'recovering' | 'open' | 'closed' = 'new';
  let writer: JournalWriter | null = null;
  let nextSeq = 1;
  /** Record bytes of journals older than the writer's, by generation, live until a snapshot supersedes them. */
  const retiredJournalBytes = new Map<number, number>();
  /** Serialises snapshots, and lets close wait for one in progress. */
  let snapshotChain: Promise<void> = Promise.resolve();

  const requireWriter = (what: string): JournalWriter => {
    if (state === 'closed') throw new Error(`cannot ${what}: persistence for ${dir} is closed`);
    if (!writer) throw new Error(`cannot ${what}: call recover() first`);
    return writer;
  };

  async function recover(): Promise<RecoveredState> {
    if (state !== 'new') throw new Error(`recover() may only be called once (persistence for ${dir} is ${state})`);
    state = 'recovering';
    const listing = await listDir(dir);
    // Temp files are unfinished snapshots or journals that were never renamed into place.
    for (const name of listing.tempFiles) await removeIfExists(path.join(dir, name));

    const snapshot: LoadedSnapshot | null = listing.hasSnapshot ? await readSnapshotFile(dir) : null;
    const firstGen = snapshot?.meta.journalGen ?? 1;
    for (const gen of listing.journalGens.filter((g) => g < firstGen)) await unlink(path.join(dir, journalFileName(gen)));
    const liveGens = listing.journalGens.filter((g) => g >= firstGen);

    const afterSeq = snapshot?.meta.lastSeq ?? 0;
    const replay = await replayJournals(dir, liveGens, afterSeq);
    nextSeq = Math.max(afterSeq, replay.lastSeq) + 1;

    const current = replay.live.at(-1);
    if (current) {
      for (const journal of replay.live.slice(0, -1)) retiredJournalBytes.set(journal.gen, journal.recordBytes);
      writer = await JournalWriter.open(dir, options.fsync, path.join(dir, journalFileName(current.gen)), current.gen, replay.appendPosition);
    } else {
      const file = await createJournalFile(dir, firstGen);
      writer = await JournalWriter.open(dir, options.fsync, file, firstGen, replay.appendPosition);
    }
    if (state !== 'recovering') {
      // close() ran while we were reading: do not leave a file handle behind.
      await writer.close();
      throw new Error(`persistence for ${dir} was closed during recover()`);
    }
    state = 'open';
    return {
      collections: snapshot?.collections ?? [],
      ops: replay.ops,
      report: { snapshotDocs: snapshot?.docCount ?? 0, journalOps: replay.ops.length, droppedTailBytes: replay.droppedTailBytes },
    };
  }

  function append(batch: JournalOp[]): Promise<void> {
    try {
      const target = requireWriter('append');
      const records = encodeBatch(nextSeq, serializeOps(batch));
      nextSeq++;
      return target.append(records);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function writeSnapshot(collections: Iterable<CollectionImage>): Promise<void> {
    let target: JournalWriter;
    try {
      target = requireWriter('write a snapshot');
    } catch (error) {
      return Promise.reject(error);
    }
    // The cut is taken now, not when an earlier snapshot finishes: every batch appended before
    // this call is in the engine's memory, hence in `collections`; the rotation is queued behind
    // exactly those batches, so every later batch lands in the new journal and is replayed on top.
    const lastSeq = nextSeq - 1;
    const rotated = target.rotate().then((leftBytes) => {
      retiredJournalBytes.set(target.currentGen - 1, leftBytes);
      return target.currentGen;
    });
    // Observed by `run` possibly much later; mark it handled so an early failure is not fatal.
    rotated.catch(() => undefined);
    const run = async (): Promise<void> => {
      const journalGen = await rotated;
      await writeSnapshotFile(dir, { lastSeq, journalGen }, collections);
      for (const gen of retiredJournalBytes.keys()) if (gen < journalGen) retiredJournalBytes.delete(gen);
      for (const gen of (await listDir(dir)).journalGens) {
        if (gen < journalGen) await removeIfExists(path.join(dir, journalFileName(gen)));
      }
    };
    const done = snapshotChain.then(run);
    snapshotChain = done.catch(() => undefined);
    return done;
  }

  async function close(): Promise<void> {
    if (state === 'closed') return;
    state = 'closed';
    try {
      await snapshotChain;
      await writer?.close();
    } finally {
      lock.release();
    }
  }

  return {
    recover,
    append,
    journalBytes: () => {
      let bytes = writer?.currentBytes ?? 0;
      for (const retired of retiredJournalBytes.values()) bytes += retired;
      return bytes;
    },
    writeSnapshot,
    close,
  };
}
