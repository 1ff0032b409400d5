/**
 * What COPY loads of a validated file: the header as the file has it (a BOM included), then each valid record after
 * the file line it starts on and a comma, the COPY's first column (`line`). COPY cannot number rows, and a column
 * default (a sequence) cost PostgreSQL a function call per row; a number to read costs it next to nothing. The
 * validator marks each scan's valid records, and `cut` copies them out of the scanned buffer, which is not kept.
 */
export class CopyData {
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private lines = new Int32Array(1024);
  private marked = 0;
  private passed = 0;
  private readonly ready: Buffer[] = [];

  /** The scan's first `bytes` bytes go as they are (the BOM, the header). */
  pass(bytes: number): void {
    this.passed = bytes;
  }

  /** A valid record of the current scan: [start, end) of its buffer, starting on file line `line`. */
  mark(start: number, end: number, line: number): void {
    if (this.marked === this.starts.length) {
      this.starts = grown(this.starts);
      this.ends = grown(this.ends);
      this.lines = grown(this.lines);
    }
    this.starts[this.marked] = start;
    this.ends[this.marked] = end;
    this.lines[this.marked++] = line;
  }

  /** Ends a scan of `buf`: its passed bytes and marked records become COPY data. */
  cut(buf: Buffer): void {
    const { starts, ends, lines, marked: n, passed } = this;
    this.marked = this.passed = 0;
    if (n === 0 && passed === 0) return;
    let size = passed + n * (MAX_LINE_DIGITS + 1);
    for (let i = 0; i < n; i++) size += ends[i]! - starts[i]!;
    const out = Buffer.allocUnsafe(size);
    let o = buf.copy(out, 0, 0, passed);
    for (let i = 0; i < n; i++) {
      o = writeLine(out, o, lines[i]!);
      o += buf.copy(out, o, starts[i]!, ends[i]!);
    }
    this.ready.push(out.subarray(0, o));
  }

  /** The COPY data cut so far, taken once. */
  take(): Buffer[] {
    return this.ready.splice(0);
  }
}

function grown(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** A line is an int4: at most 10 digits. */
const MAX_LINE_DIGITS = 10;
function writeLine(out: Buffer, at: number, line: number): number {
  let digits = 1;
  for (let x = line; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = at + digits - 1, x = line; i >= at; i--, x = Math.floor(x / 10)) out[i] = 48 + (x % 10);
  out[at + digits] = 44;
  return at + digits + 1;
}
