/**
 * Owns the open journal file. Every write and file switch goes through one serial queue, so
 * records land in call order; consecutive queued appends are written with a single writev and,
 * under `always`, share a single fdatasync (group commit). The write(2) itself is synchronous:
 * it only copies into the page cache, and a thread-pool round trip costs ~10x more than the copy.
 */
import { writeSync, writevSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { FsyncPolicy } from './contract.ts';
import { FILE_HEADER_BYTES } from './framing.ts';
import { createJournalFile } from './files.ts';

/** How long `batch` lets written-but-unsynced data sit in the page cache. */
const BATCH_FSYNC_INTERVAL_MS = 100;

type QueueItem =
  | { kind: 'write'; records: Buffer[]; resolve: () => void; reject: (error: unknown) => void }
  | { kind: 'task'; run: () => Promise<void> };

export class JournalWriter {
  private readonly queue: QueueItem[] = [];
  private draining = false;
  private dirty = false;
  private syncInFlight: Promise<void> | null = null;
  private failure: Error | null = null;
  private readonly timer: NodeJS.Timeout | null;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly policy: FsyncPolicy,
    private fh: FileHandle,
    private gen: number,
    /** Where the next record goes: the end of the last complete record. */
    private position: number,
  ) {
    this.timer = policy === 'batch' ? setInterval(() => this.periodicSync(), BATCH_FSYNC_INTERVAL_MS) : null;
    // A pending fsync tick must not keep an otherwise finished process alive.
    this.timer?.unref();
  }

  static async open(dir: string, policy: FsyncPolicy, file: string, gen: number, position: number): Promise<JournalWriter> {
    return new JournalWriter(dir, policy, await open(file, 'r+'), gen, position);
  }

  get currentGen(): number {
    return this.gen;
  }

  /** Record bytes in the current journal file. */
  get currentBytes(): number {
    return this.position - FILE_HEADER_BYTES;
  }

  append(records: Buffer[]): Promise<void> {
    // Nothing queued ahead and no fsync to wait for: write now, in call order all the same.
    if (!this.draining && this.policy !== 'always') {
      try {
        this.assertUsable();
        this.writeRecords(records);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'write', records, resolve, reject });
      this.kick();
    });
  }

  /**
   * Queued behind every append issued so far: makes the current journal durable, then switches
   * to a fresh journal `gen + 1`. Returns the record bytes of the journal it left.
   */
  rotate(): Promise<number> {
    return this.exclusive(async () => {
      this.assertUsable();
      const leftBytes = this.currentBytes;
      await this.syncNow();
      const nextGen = this.gen + 1;
      const file = await createJournalFile(this.dir, nextGen);
      const next = await open(file, 'r+');
      await this.fh.close();
      this.fh = next;
      this.gen = nextGen;
      this.position = FILE_HEADER_BYTES;
      return leftBytes;
    });
  }

  /** Flushes everything queued, fsyncs and closes the file. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      if (this.timer) clearInterval(this.timer);
      try {
        if (!this.failure) await this.syncNow();
      } finally {
        this.closed = true;
        await this.fh.close();
      }
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ kind: 'task', run: () => fn().then(resolve, reject) });
      this.kick();
    });
  }

  private assertUsable(): void {
    if (this.closed) throw new Error('journal is closed');
    if (this.failure) {
      throw new Error(`journal is unusable after an earlier I/O failure: ${this.failure.message}`, { cause: this.failure });
    }
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind === 'task') {
        this.queue.shift();
        await head.run();
        continue;
      }
      let count = 0;
      while (this.queue[count]?.kind === 'write') count++;
      const group = this.queue.splice(0, count) as Array<Extract<QueueItem, { kind: 'write' }>>;
      try {
        this.assertUsable();
        await this.writeGroup(group.flatMap((item) => item.records));
        for (const item of group) item.resolve();
      } catch (error) {
        for (const item of group) item.reject(error);
      }
    }
    this.draining = false;
  }

  private async writeGroup(records: Buffer[]): Promise<void> {
    this.writeRecords(records);
    if (this.policy !== 'always') return;
    try {
      await this.fh.datasync();
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  }

  private writeRecords(records: Buffer[]): void {
    let total = 0;
    for (const record of records) total += record.length;
    try {
      let bytesWritten = writevSync(this.fh.fd, records, this.position);
      if (bytesWritten < total) {
        // Short writev (rare on regular files): finish the remainder with plain writes.
        const all = Buffer.concat(records);
        while (bytesWritten < total) {
          const n = writeSync(this.fh.fd, all, bytesWritten, total - bytesWritten, this.position + bytesWritten);
          if (n === 0) throw new Error('journal write made no progress');
          bytesWritten += n;
        }
      }
      this.position += total;
      this.dirty = true;
    } catch (error) {
      // Whatever reached the file after the last good record is a torn tail that recovery will
      // cut off; appending after it would hide later records behind it, so stop accepting writes.
      this.failure = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  }

  private periodicSync(): void {
    if (!this.dirty || this.syncInFlight || this.failure || this.closed) return;
    this.dirty = false;
    this.syncInFlight = this.fh
      .datasync()
      .catch((error: unknown) => {
        // Linux may drop dirty pages after a failed fsync, so data acknowledged since the last
        // good sync is not known to be on disk: refuse further writes rather than pretend.
        this.failure = error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        this.syncInFlight = null;
      });
  }

  /** Called from inside the queue only, so no write can race with it. */
  private async syncNow(): Promise<void> {
    this.dirty = false;
    await this.syncInFlight;
    this.assertUsable();
    try {
      await this.fh.datasync();
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  }
}
