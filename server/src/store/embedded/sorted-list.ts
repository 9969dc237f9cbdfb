/**
 * Ordered multiset kept as a list of small sorted blocks: O(log n) search and O(block) insert/delete,
 * so bulk inserts never pay for shifting one huge array.
 */
const BLOCK = 256;

export class SortedList<T> {
  private blocks: T[][] = [];
  private count = 0;

  constructor(private readonly cmp: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  /** Index of the first block whose last element is >= probe (per cmp). */
  private blockFor(probe: (x: T) => number): number {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = this.blocks[mid] as T[];
      if (probe(b[b.length - 1] as T) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound<T>(arr: T[], probe: (x: T) => number): number {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (probe(arr[mid] as T) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(item: T): void {
    this.count++;
    const blocks = this.blocks;
    if (blocks.length === 0) {
      blocks.push([item]);
      return;
    }
    // Closures are avoided on this hot path (tsx wraps each one in a __name call). Equal items go
    // after existing ones so ties keep insertion order.
    const cmp = this.cmp;
    let lo = 0;
    let hi = blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = blocks[mid] as T[];
      if (cmp(b[b.length - 1] as T, item) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const bi = lo;
    const block = blocks[bi] as T[];
    let l = 0;
    let h = block.length;
    while (l < h) {
      const mid = (l + h) >> 1;
      if (cmp(block[mid] as T, item) <= 0) l = mid + 1;
      else h = mid;
    }
    if (l === block.length) block.push(item);
    else block.splice(l, 0, item);
    if (block.length > BLOCK * 2) blocks.splice(bi, 1, block.slice(0, BLOCK), block.slice(BLOCK));
  }

  /** Fills an empty list in one sort instead of one binary insertion per item (ties keep input order). */
  load(items: T[]): void {
    if (this.count) throw new Error('SortedList.load needs an empty list');
    const sorted = items.slice().sort(this.cmp);
    for (let i = 0; i < sorted.length; i += BLOCK) this.blocks.push(sorted.slice(i, i + BLOCK));
    this.count = sorted.length;
  }

  /** Removes the item `same` identifies among those comparing equal to it. */
  remove(item: T, same: (x: T) => boolean): boolean {
    const probe = (x: T): number => this.cmp(x, item);
    for (let bi = this.blockFor(probe); bi < this.blocks.length; bi++) {
      const block = this.blocks[bi] as T[];
      for (let i = SortedList.lowerBound(block, probe); i < block.length; i++) {
        const x = block[i] as T;
        if (same(x)) {
          block.splice(i, 1);
          if (block.length === 0) this.blocks.splice(bi, 1);
          this.count--;
          return true;
        }
        if (this.cmp(x, item) !== 0) return false;
      }
    }
    return false;
  }

  /** Items ascending, starting at the first with probe(x) >= 0 (or the beginning). */
  *ascending(probe?: (x: T) => number): Generator<T> {
    let bi = probe ? this.blockFor(probe) : 0;
    let i = probe && bi < this.blocks.length ? SortedList.lowerBound(this.blocks[bi] as T[], probe) : 0;
    for (; bi < this.blocks.length; bi++, i = 0) {
      const block = this.blocks[bi] as T[];
      for (; i < block.length; i++) yield block[i] as T;
    }
  }

  /** Items descending, starting at the last with probe(x) <= 0 (or the end). */
  *descending(probe?: (x: T) => number): Generator<T> {
    if (this.blocks.length === 0) return;
    let bi = this.blocks.length - 1;
    let i = (this.blocks[bi] as T[]).length - 1;
    if (probe) {
      const after = (x: T): number => (probe(x) <= 0 ? -1 : 1);
      const b = this.blockFor(after);
      if (b < this.blocks.length) {
        bi = b;
        i = SortedList.lowerBound(this.blocks[bi] as T[], after) - 1;
      }
    }
    for (; bi >= 0; bi--, i = bi >= 0 ? (this.blocks[bi] as T[]).length - 1 : 0) {
      const block = this.blocks[bi] as T[];
      for (; i >= 0; i--) yield block[i] as T;
    }
  }
}
