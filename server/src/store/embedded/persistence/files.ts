/** File names inside a dbPath and the fsync/rename primitives everything else builds on. */
import { open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { encodeFileHeader } from './framing.ts';

export const LOCK_FILE = 'LOCK';
export const SNAPSHOT_FILE = 'snapshot.bin';
/** Suffix of files that are only made visible by a rename; leftovers are crash debris. */
export const TEMP_SUFFIX = '.tmp';
/** Suffix given to journals that follow a corrupt one: kept for forensics, never replayed. */
export const DISCARDED_SUFFIX = '.discarded';

const JOURNAL_PATTERN = /^journal-(\d{12})\.log$/;

export function journalFileName(gen: number): string {
  return `journal-${String(gen).padStart(12, '0')}.log`;
}

export interface DirListing {
  /** Journal generations present, ascending. */
  journalGens: number[];
  tempFiles: string[];
  hasSnapshot: boolean;
}

export async function listDir(dir: string): Promise<DirListing> {
  const names = await readdir(dir);
  const journalGens: number[] = [];
  for (const name of names) {
    const match = JOURNAL_PATTERN.exec(name);
    if (match?.[1] !== undefined) journalGens.push(Number(match[1]));
  }
  journalGens.sort((a, b) => a - b);
  return {
    journalGens,
    tempFiles: names.filter((name) => name.endsWith(TEMP_SUFFIX)),
    hasSnapshot: names.includes(SNAPSHOT_FILE),
  };
}

/** Makes creations, renames and deletions in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates an empty journal atomically, so a journal file on disk always has a complete header. */
export async function createJournalFile(dir: string, gen: number): Promise<string> {
  const finalPath = path.join(dir, journalFileName(gen));
  const tempPath = finalPath + TEMP_SUFFIX;
  const handle = await open(tempPath, 'w');
  try {
    await handle.write(encodeFileHeader('journal'));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tempPath, finalPath);
  await fsyncDir(dir);
  return finalPath;
}

export async function removeIfExists(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
