import type { ContactModels } from '../contacts/index.ts';

class Snapshot {
  readonly loadedAt = Date.now();

  constructor(
    private readonly tags: Map<string, string>,
    private readonly channels: Map<string, string>,
  ) {}

  /** Names of the given tag ids that exist (unknown ids are left out). */
  tagNames(tagIds: string[]): Map<string, string> {
    return new Map(tagIds.flatMap((id) => (this.tags.has(id) ? [[id, this.tags.get(id)!] as const] : [])));
  }

  channelName(state: string | null | undefined): string | null {
    return state ? (this.channels.get(state) ?? null) : null;
  }
}

/**
 * Tag and channel names, read whole and kept for a short while: both are small, change rarely (an
 * operator edits the library), and every profile needs them, so the hot path skips a store round
 * trip. A rename shows up within `ttlMs`; the tag tab and tag edits read the store directly.
 */
export class Catalog {
  private snapshot: Promise<Snapshot> | null = null;

  constructor(
    private readonly contacts: ContactModels,
    private readonly ttlMs = 30_000,
  ) {}

  /** The names as of at most `ttlMs` ago. */
  current(): Promise<Snapshot> {
    const cached = this.snapshot;
    if (cached) {
      return cached.then((s) => (Date.now() - s.loadedAt < this.ttlMs ? s : this.reload()));
    }
    return this.reload();
  }

  private reload(): Promise<Snapshot> {
    const loading = Promise.all([
      this.contacts.Tag.find({}, { _id: 0, tagId: 1, name: 1 }).lean(),
      this.contacts.Channel.find({}, { _id: 0, state: 1, name: 1 }).lean(),
    ]).then(
      ([tags, channels]) =>
        new Snapshot(new Map(tags.map((t) => [t.tagId, t.name])), new Map(channels.map((c) => [c.state, c.name]))),
    );
    this.snapshot = loading;
    // A failed read must not stick: the next request tries again.
    loading.catch(() => {
      if (this.snapshot === loading) this.snapshot = null;
    });
    return loading;
  }
}
