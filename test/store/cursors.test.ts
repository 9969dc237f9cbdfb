import { Long } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import { CursorRegistry } from '../../server/src/store/embedded/cursors.ts';

const MiB = 1024 * 1024;
let registry: CursorRegistry;

afterEach(() => registry.close());

describe('cursor batches', () => {
  it('stop before the document that would take a reply past 16 MiB, and send an oversized single one alone', () => {
    registry = new CursorRegistry();
    // Stored documents travel as their BSON, so a buffer's length is all the sizing looks at.
    const docs = [Buffer.alloc(9 * MiB), Buffer.alloc(9 * MiB), Buffer.alloc(100), Buffer.alloc(100)];
    const first = registry.start('db.c', docs, undefined, false);
    expect(first.batch).toHaveLength(1);
    expect(first.batch[0]).toBe(docs[0]);
    const second = registry.next(first.id, 'db.c', undefined);
    expect(second.batch).toHaveLength(3);
    expect(second.batch[0]).toBe(docs[1]);
    expect(second.id).toEqual(Long.ZERO);
  });

  it('sends a batch of one whatever its size, without measuring it', () => {
    registry = new CursorRegistry();
    const big = Buffer.alloc(20 * MiB);
    const single = registry.start('db.c', [big, Buffer.alloc(10)], 1, false);
    expect(single.batch).toHaveLength(1);
    expect(single.batch[0]).toBe(big);
    expect(registry.next(single.id, 'db.c', undefined).batch).toHaveLength(1);
  });
});
