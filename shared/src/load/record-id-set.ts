/**
 * Remembers record ids to find duplicates in flat memory: a bitmap (1 bit per id) that grows to the largest id
 * seen, up to 64 Mi ids (8 MiB). Ids beyond that fall back to a Set, whose memory grows with their number (tens of
 * bytes each): fine for a few outliers, costly for a file of millions of such ids (see docs/persistence.md).
 */
export class RecordIdSet {
  private bits = new Uint8Array(1 << 16);
  private readonly sparse = new Set<number>();
  private static readonly BITMAP_LIMIT = 1 << 26;

  /** Adds an id; false when it was already there. */
  add(id: number): boolean {
    if (id >= RecordIdSet.BITMAP_LIMIT) {
      if (this.sparse.has(id)) return false;
      this.sparse.add(id);
      return true;
    }
    const byte = id >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.min(Math.max(this.bits.length * 2, byte + 1), RecordIdSet.BITMAP_LIMIT >>> 3));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (id & 7);
    if (this.bits[byte]! & mask) return false;
    this.bits[byte]! |= mask;
    return true;
  }
}
