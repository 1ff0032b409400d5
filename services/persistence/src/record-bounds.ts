const QUOTE = 34;
const LF = 10;

/** The first line feed of a range that ends a record, given the quote parity the range starts with. */
export interface RecordEnd {
  /** Offset just after the line feed, relative to the range's start. */
  after: number;
  /** Line feeds in the range up to and including it. */
  lines: number;
}

/**
 * What one byte range says about record boundaries, found in a single pass that looks only at quotes and line
 * feeds. In RFC 4180 a quote only opens, closes or (doubled) escapes inside a quoted field, so a position is
 * inside quotes exactly when an odd number of quotes precede it in the file. A range cannot know that parity on its
 * own: it keeps its first record-ending line feed for either starting parity, and its totals, so that ranges scanned
 * in parallel can be joined afterwards (`recordStarts`).
 */
export class RangeScan {
  quotes = 0;
  lines = 0;
  /** By the parity the range starts with (0 = outside quotes): its first line feed outside quotes. */
  readonly ends: [RecordEnd | undefined, RecordEnd | undefined] = [undefined, undefined];
  private length = 0;

  push(chunk: Buffer): void {
    // Two cursors, each only moving forward: the next quote and the next line feed.
    let quote = chunk.indexOf(QUOTE);
    let p = 0;
    // Until both candidates are known, walk line feed to line feed, counting the quotes before each.
    while (!(this.ends[0] && this.ends[1])) {
      const lf = chunk.indexOf(LF, p);
      if (lf < 0) break;
      for (; quote >= 0 && quote < lf; quote = chunk.indexOf(QUOTE, quote + 1)) this.quotes++;
      this.lines++;
      // Outside quotes at this line feed when the quotes before it, this range's plus the start's, are even.
      this.ends[this.quotes & 1] ??= { after: this.length + lf + 1, lines: this.lines };
      p = lf + 1;
    }
    for (; quote >= 0; quote = chunk.indexOf(QUOTE, quote + 1)) this.quotes++;
    for (let lf = chunk.indexOf(LF, p); lf >= 0; lf = chunk.indexOf(LF, lf + 1)) this.lines++;
    this.length += chunk.length;
  }
}

/** Where a chunk starts: a byte offset at a record start, and the file line of that record (header = 1). */
export interface RecordStart {
  offset: number;
  line: number;
}

/**
 * Joins the scans of consecutive ranges (range i starts at `starts[i]`) into the file's record starts, one per range
 * at most: the first record start inside each range, with its line number. The first is the end of the header. A
 * range in which no record starts (a record longer than the range) contributes none.
 */
export function recordStarts(starts: readonly number[], scans: readonly RangeScan[]): RecordStart[] {
  const found: RecordStart[] = [];
  let quotes = 0;
  let lines = 0;
  for (const [i, scan] of scans.entries()) {
    const end = scan.ends[quotes & 1];
    if (end) found.push({ offset: starts[i]! + end.after, line: 1 + lines + end.lines });
    quotes += scan.quotes;
    lines += scan.lines;
  }
  return found;
}
