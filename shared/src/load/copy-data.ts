import type { ValueKind } from '@dataharvest/events/file-schemas';

/**
 * What COPY loads of a validated file, in PostgreSQL's binary COPY format: each valid record as its file line (the
 * first column, `line`) and its values as the database stores them. The validator has checked every value, so
 * writing them as integers, numerics and UUIDs here takes the text parsing off the database's backend, which bounds a
 * load (docs/performance.md). The validator marks each scan's valid records, and `cut` encodes them out of the
 * scanned buffer, which is not kept.
 */
export class CopyData {
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private lines = new Int32Array(1024);
  private marked = 0;
  private kinds: readonly ValueKind[] = [];
  private signature = false;
  private readonly ready: Buffer[] = [];

  /** The header has been read: records have these values, in this order, and the COPY data starts. */
  begin(kinds: readonly ValueKind[]): void {
    this.kinds = kinds;
    this.signature = true;
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

  /** Ends a scan of `buf`: its marked records become COPY data. */
  cut(buf: Buffer): void {
    const { starts, ends, lines, marked: n, kinds } = this;
    this.marked = 0;
    if (n === 0 && !this.signature) return;
    let size = SIGNATURE.length;
    for (let i = 0; i < n; i++) size += ends[i]! - starts[i]! + RECORD_OVERHEAD + kinds.length * FIELD_OVERHEAD;
    const out = Buffer.allocUnsafe(size);
    let o = 0;
    if (this.signature) {
      o = SIGNATURE.copy(out);
      this.signature = false;
    }
    for (let i = 0; i < n; i++) o = writeRecord(out, o, buf, starts[i]!, lines[i]!, kinds);
    this.ready.push(out.subarray(0, o));
  }

  /** The file has ended: the data's trailer follows its last record. */
  end(): void {
    if (this.kinds.length > 0) this.ready.push(TRAILER);
  }

  /** The COPY data cut so far, taken once. */
  take(): Buffer[] {
    return this.ready.splice(0);
  }
}

/** PGCOPY\n\377\r\n\0, no flags, no header extension. */
const SIGNATURE = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** A tuple of -1 fields. */
const TRAILER = Buffer.from([0xff, 0xff]);
/** Per record: the field count and the line (length and int4). */
const RECORD_OVERHEAD = 2 + 8;
/** Per value at most: its length, and what a short value grows by (a numeric of `5` is 10 bytes). */
const FIELD_OVERHEAD = 4 + 16;

const QUOTE = 34,
  COMMA = 44,
  LF = 10,
  CR = 13;

function grown(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

function writeInt32(out: Buffer, o: number, v: number): number {
  out[o] = v >>> 24;
  out[o + 1] = v >>> 16;
  out[o + 2] = v >>> 8;
  out[o + 3] = v;
  return o + 4;
}

function writeInt16(out: Buffer, o: number, v: number): number {
  out[o] = v >>> 8;
  out[o + 1] = v;
  return o + 2;
}

/** One tuple: the line, then each value of the record at `p` (valid, so its structure needs no checks). */
function writeRecord(out: Buffer, o: number, buf: Buffer, p: number, line: number, kinds: readonly ValueKind[]): number {
  o = writeInt16(out, o, kinds.length + 1);
  o = writeInt32(out, writeInt32(out, o, 4), line);
  for (let field = 0; field < kinds.length; field++) {
    // The value's bytes: copied behind its length as they are, then re-encoded for the kinds that are not text.
    const at = o + 4;
    let v = at;
    if (buf[p] === QUOTE) {
      for (p++; ; p++) {
        if (buf[p] === QUOTE && buf[++p] !== QUOTE) break;
        out[v++] = buf[p]!;
      }
    } else {
      for (let b = buf[p]; p < buf.length && b !== COMMA && b !== LF && b !== CR; b = buf[++p]) out[v++] = b!;
    }
    p++; // the comma, or the line break (the last value's, which nothing reads after)
    const kind = kinds[field];
    const end = kind === 'record_id' ? writeInt32(out, at, digits(out, at, v)) : kind === 'money' ? writeNumeric(out, at, v) : kind === 'uuid' ? writeUuid(out, at) : v;
    writeInt32(out, o, end - at);
    o = end;
  }
  return o;
}

/** The whole number of the digits in [start, end). */
function digits(bytes: Buffer, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + bytes[i]! - 48;
  return value;
}

/**
 * A money value `-?D{1,15}(.D{1,2})?` in [at, end) rewritten in place as a numeric: digit count, weight, sign and
 * display scale, then base-10000 digits, most significant first. numeric(17,2)'s typmod is applied by the database.
 */
function writeNumeric(out: Buffer, at: number, end: number): number {
  const negative = out[at] === 45;
  let p = negative ? at + 1 : at;
  const dot = out.indexOf(46, p);
  const intEnd = dot >= 0 && dot < end ? dot : end;
  let whole = digits(out, p, intEnd);
  p = intEnd + 1;
  const cents = p < end ? (out[p]! - 48) * 10 + (p + 1 < end ? out[p + 1]! - 48 : 0) : 0;
  // At most four groups for 15 integer digits, least significant first.
  let groups = 0;
  const g = GROUPS;
  for (; whole > 0; whole = Math.floor(whole / 10_000)) g[groups++] = whole % 10_000;
  const count = groups + (cents > 0 ? 1 : 0);
  let o = writeInt16(out, at, count);
  o = writeInt16(out, o, groups > 0 ? groups - 1 : count > 0 ? -1 : 0);
  o = writeInt16(out, o, negative && count > 0 ? NUMERIC_NEG : 0);
  o = writeInt16(out, o, 2);
  while (groups > 0) o = writeInt16(out, o, g[--groups]!);
  return cents > 0 ? writeInt16(out, o, cents * 100) : o;
}
const GROUPS = new Int32Array(4);
const NUMERIC_NEG = 0x4000;

/** A UUID's 36 characters at `at` rewritten in place as its 16 bytes. */
function writeUuid(out: Buffer, at: number): number {
  let o = at;
  for (let i = at; i < at + 36; i += 2) {
    if (out[i] === 45) i++;
    out[o++] = (HEX[out[i]!]! << 4) | HEX[out[i + 1]!]!;
  }
  return o;
}
const HEX = new Uint8Array(256);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
