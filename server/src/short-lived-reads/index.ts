/**
 * Reads that many callers repeat within moments (a campaign day's plans, a channel's auto-tags):
 * each key's read is kept for `ttlMs`, and callers that miss together share the one read in
 * flight. A failed read is not kept. `generation`, when given, is a counter the owner bumps on its
 * own writes: an entry read before the bump is not answered from any more.
 */
export class ShortLivedReads<T> {
  private readonly entries = new Map<string, { value: Promise<T>; until: number; generation: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly generation: () => number = () => 0,
    /** Past this many keys everything is dropped: a bound, not an eviction policy. */
    private readonly maxKeys = 1_000,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const cached = this.entries.get(key);
    if (cached && cached.until > now && cached.generation === this.generation()) return cached.value;
    const entry = { value: load(), until: now + this.ttlMs, generation: this.generation() };
    if (this.entries.size >= this.maxKeys) this.entries.clear();
    this.entries.set(key, entry);
    entry.value.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    return entry.value;
  }
}
