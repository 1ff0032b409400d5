import type { ValueKind } from '@dataharvest/events/file-schemas';
import { recordIdValue } from './values';

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
  private encodings = new Uint8Array(0);
  private signature = false;
  private readonly ready: Buffer[] = [];

  /** The header has been read: records have these values, in this order, and the COPY data starts. */
  begin(kinds: readonly ValueKind[]): void {
    this.encodings = Uint8Array.from(kinds, encodingOf);
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
    const { starts, ends, lines, marked: n, encodings } = this;
    this.marked = 0;
    if (n === 0 && !this.signature) return;
    let size = SIGNATURE.length;
    for (let i = 0; i < n; i++) size += ends[i]! - starts[i]! + RECORD_OVERHEAD + encodings.length * FIELD_OVERHEAD;
    const out = Buffer.allocUnsafe(size);
    let o = 0;
    if (this.signature) {
      o = SIGNATURE.copy(out);
      this.signature = false;
    }
    for (let i = 0; i < n; i++) o = writeRecord(out, o, buf, starts[i]!, ends[i]!, lines[i]!, encodings);
    this.ready.push(out.subarray(0, o));
  }

  /** The file has ended: the data's trailer follows its last record. */
  end(): void {
    if (this.encodings.length > 0) this.ready.push(TRAILER);
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
/** What a value grows by at most: `5` becomes a numeric of 14 bytes (length 4, header 8, one digit 2). */
const FIELD_OVERHEAD = 4 + 16;

const QUOTE = 34;
/** What ends an unquoted value: a comma, a line feed, a carriage return. */
const STOP = new Uint8Array(256);
STOP[44] = STOP[10] = STOP[13] = 1;

/** How each kind is written: text as its bytes, the others in their type's binary form. */
const enum Encoding {
  Text,
  Int4,
  Numeric,
  Uuid,
}
const encodingOf = (kind: ValueKind) => (kind === 'record_id' ? Encoding.Int4 : kind === 'money' ? Encoding.Numeric : kind === 'uuid' ? Encoding.Uuid : Encoding.Text);

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

/**
 * One tuple: the line, then each value of the record in [p, end) (valid, so its structure needs no checks). Text is
 * copied behind its length, unescaped when quoted; the other kinds are read where they lie (quoted, they hold no
 * escapes).
 */
function writeRecord(out: Buffer, o: number, buf: Buffer, p: number, end: number, line: number, encodings: Uint8Array): number {
  o = writeInt16(out, o, encodings.length + 1);
  o = writeInt32(out, writeInt32(out, o, 4), line);
  for (let field = 0; field < encodings.length; field++) {
    const encoding = encodings[field];
    if (encoding === Encoding.Text) {
      let v = o + 4;
      if (buf[p] === QUOTE) {
        for (p++; buf[p] !== QUOTE || buf[++p] === QUOTE; p++) out[v++] = buf[p]!;
      } else {
        const from = p;
        while (p < end && STOP[buf[p]!] === 0) p++;
        for (let i = from; i < p; i++) out[v++] = buf[i]!;
      }
      writeInt32(out, o, v - o - 4);
      o = v;
    } else {
      const quoted = buf[p] === QUOTE;
      const from = quoted ? ++p : p;
      if (quoted) while (buf[p] !== QUOTE) p++;
      else while (p < end && STOP[buf[p]!] === 0) p++;
      o =
        encoding === Encoding.Int4
          ? writeInt32(out, writeInt32(out, o, 4), recordIdValue(buf, from, p))
          : encoding === Encoding.Numeric
            ? writeNumeric(out, o, buf, from, p)
            : writeUuid(out, o, buf, from);
      if (quoted) p++;
    }
    p++; // the comma, or the line break (the last value's, which nothing reads after)
  }
  return o;
}

/**
 * A money value `-?D{1,15}(.D{1,2})?` in [start, end) as a numeric: its length, then digit count, weight, sign and
 * display scale, then base-10000 digits, most significant first. numeric(17,2)'s typmod is applied by the database.
 */
function writeNumeric(out: Buffer, o: number, buf: Buffer, start: number, end: number): number {
  const negative = buf[start] === 45;
  let p = negative ? start + 1 : start;
  let whole = 0;
  for (; p < end && buf[p] !== 46; p++) whole = whole * 10 + buf[p]! - 48;
  // p is at the point, or the end.
  const cents = p + 1 < end ? (buf[p + 1]! - 48) * 10 + (p + 2 < end ? buf[p + 2]! - 48 : 0) : 0;
  // At most four groups for 15 integer digits, least significant first.
  let groups = 0;
  const g = GROUPS;
  for (; whole > 0; whole = Math.floor(whole / 10_000)) g[groups++] = whole % 10_000;
  const count = groups + (cents > 0 ? 1 : 0);
  o = writeInt32(out, o, 8 + 2 * count);
  o = writeInt16(out, o, count);
  o = writeInt16(out, o, groups > 0 ? groups - 1 : count > 0 ? -1 : 0);
  o = writeInt16(out, o, negative && count > 0 ? NUMERIC_NEG : 0);
  o = writeInt16(out, o, 2);
  while (groups > 0) o = writeInt16(out, o, g[--groups]!);
  return cents > 0 ? writeInt16(out, o, cents * 100) : o;
}
const GROUPS = new Int32Array(4);
const NUMERIC_NEG = 0x4000;

/** A UUID's 36 characters at `start` as its length and 16 bytes. */
function writeUuid(out: Buffer, o: number, buf: Buffer, start: number): number {
  o = writeInt32(out, o, 16);
  for (let i = start; i < start + 36; i += 2) {
    if (buf[i] === 45) i++;
    out[o++] = (HEX[buf[i]!]! << 4) | HEX[buf[i + 1]!]!;
  }
  return o;
}
const HEX = new Uint8Array(256);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
