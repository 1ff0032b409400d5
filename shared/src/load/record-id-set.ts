/** A set of record ids as runs of consecutive ids, in the order the file gives them. */
export interface IdRuns {
  /** [first, last] of each run; when not `exact`, the one span from the smallest id to the largest. */
  runs: Array<[number, number]>;
  /** False when the ids made more than MAX_RUNS runs: then `runs` covers them but also ids the file does not hold. */
  exact: boolean;
}

/** A chunk keeps its ids as runs up to this many (a file in id order makes one); scattered ids keep only their span. */
export const MAX_RUNS = 1_000;

/**
 * Remembers record ids to find duplicates in flat memory: a bitmap (1 bit per id) that grows to the largest id
 * seen, up to 64 Mi ids (8 MiB). Ids beyond that fall back to a Set, whose memory grows with their number (tens of
 * bytes each): fine for a few outliers, costly for a file of millions of such ids (see docs/persistence.md).
 * It also keeps the ids as runs, which is how two chunks of one file find the ids they both hold.
 */
export class RecordIdSet {
  private bits = new Uint8Array(1 << 16);
  private readonly sparse = new Set<number>();
  private static readonly BITMAP_LIMIT = 1 << 26;
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private min = Infinity;
  private max = -Infinity;
  private exact = true;

  /** Adds an id; false when it was already there. */
  add(id: number): boolean {
    if (id >= RecordIdSet.BITMAP_LIMIT) {
      if (this.sparse.has(id)) return false;
      this.sparse.add(id);
    } else {
      const byte = id >>> 3;
      if (byte >= this.bits.length) {
        const grown = new Uint8Array(Math.min(Math.max(this.bits.length * 2, byte + 1), RecordIdSet.BITMAP_LIMIT >>> 3));
        grown.set(this.bits);
        this.bits = grown;
      }
      const mask = 1 << (id & 7);
      if (this.bits[byte]! & mask) return false;
      this.bits[byte]! |= mask;
    }
    this.extendRuns(id);
    return true;
  }

  has(id: number): boolean {
    if (id >= RecordIdSet.BITMAP_LIMIT) return this.sparse.has(id);
    const byte = id >>> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (id & 7))) !== 0;
  }

  runs(): IdRuns {
    if (!this.exact) return { runs: [[this.min, this.max]], exact: false };
    return { runs: this.starts.map((start, i) => [start, this.ends[i]!]), exact: true };
  }

  private extendRuns(id: number): void {
    if (id < this.min) this.min = id;
    if (id > this.max) this.max = id;
    const last = this.ends.length - 1;
    if (last >= 0 && this.ends[last] === id - 1) this.ends[last] = id;
    else if (this.exact && this.starts.length < MAX_RUNS) {
      this.starts.push(id);
      this.ends.push(id);
    } else this.exact = false;
  }
}
