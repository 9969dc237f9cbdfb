/**
 * Exclusive ownership of a dbPath: a LOCK file holding the owner's pid, created with O_EXCL.
 * A lock whose pid is dead is taken over. Two processes racing to take over the same stale
 * lock in the same instant could both succeed; that needs a crash plus a simultaneous double
 * start, and Node offers no flock to close the gap.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { LOCK_FILE } from './files.ts';

export interface DirLock {
  release(): void;
}

/** Directories locked by this process: a pid check alone cannot tell "us" from "a previous us". */
const heldHere = new Set<string>();

export function lockDirectory(dir: string): DirLock {
  const lockPath = path.join(dir, LOCK_FILE);
  if (heldHere.has(dir)) {
    throw new Error(`dbPath ${dir} is already open in this process (pid ${process.pid}); close it before opening it again`);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      heldHere.add(dir);
      return { release: () => release(dir, lockPath) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(lockPath);
    // Our own pid in a lock we do not hold is a previous incarnation (containers reuse pid 1).
    if (holder !== null && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `dbPath ${dir} is locked by running process pid ${holder} (${lockPath}); ` +
          'only one process may use a dbPath. Stop that process, or delete the LOCK file if that pid is not a store.',
      );
    }
    unlinkQuietly(lockPath);
  }
  throw new Error(`could not take the lock ${lockPath}: it keeps being recreated by another process`);
}

function release(dir: string, lockPath: string): void {
  heldHere.delete(dir);
  if (readHolder(lockPath) === process.pid) unlinkQuietly(lockPath);
}

/** The pid in the lock file, or null when the file is gone, empty or unreadable (a crash mid-create). */
function readHolder(lockPath: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
