import { isUtf8 } from 'node:buffer';
import type { FileType, RowError } from '@dataharvest/events/batch';
import { columnForHeader, FILE_SCHEMAS, type ValueKind } from '@dataharvest/events/file-schemas';
import { CopyData } from './copy-data';
import { bigMoneyCents, MoneySum, moneyCents } from './money-sum';
import { type IdRuns, RecordIdSet } from './record-id-set';
import { MAX_REPORTED_ERRORS } from './report-size';
import { c1Offset, c1Reason, utf8ErrorOffset } from './utf8';
import { ANY_TABLE, badByteReason, ByteClass, formatReason, invalidValue, KIND_TABLE, MAX_LENGTH, recordIdValue, shapeCheck, type ShapeCheck } from './values';

const QUOTE = 34,
  LF = 10,
  CR = 13;
/**
 * A record longer than this (its line break aside) is not CSV we can load (typically an unterminated quote): the file
 * is refused at it, whether the record arrives whole or across chunks.
 */
const MAX_RECORD_BYTES = 1 << 20;
const TOO_LONG = 'a record longer than 1 MiB: is a quote left open?';
/** Inside quotes only a closing quote, a line feed (counted), a carriage return (CRLF only) and control characters matter. */
const QUOTED_TABLE = ANY_TABLE.map((c, b) => (b === QUOTE ? ByteClass.Quote : b === LF ? ByteClass.Lf : b === CR ? ByteClass.Cr : c === ByteClass.Comma ? ByteClass.Ok : c));

/** A data record that failed, as offsets into `region` (lenient loads cut these out). */
export interface RejectedRecord {
  start: number;
  end: number;
  line: number;
  reason: string;
}

export interface ValidatorOptions {
  maxErrors?: number;
  keepRejected?: boolean;
  /** The bytes are the header and a range of a larger file: the file line of the range's first record. */
  firstLine?: number;
  /** Keep what COPY is to load, for `takeCopyData`. */
  copyData?: boolean;
}

/**
 * A streaming RFC 4180 validator for one file type. It scans bytes, never building strings for data rows, so the
 * original buffers can go to COPY untouched. Work is done a record at a time: a record cut by a chunk boundary is
 * carried over and scanned again whole with the next chunk, so no record leaves side effects until it has ended.
 * Errors carry the line where the record starts (header = 1), the column as the file's header names it, a reason.
 */
export class CsvValidator {
  rows = 0;
  records = 0;
  errorCount = 0;
  readonly errors: RowError[] = [];
  /**
   * The header as the file spells it (an unknown cell that may be data as `column <n>`), and the canonical column
   * names in that order (the COPY column list).
   */
  header: string[] | undefined;
  copyColumns: string[] | undefined;
  /** The sum of the valid records' money values. */
  readonly moneySum = new MoneySum();
  /** Nothing more can be checked (a bad header, a runaway record): the file is rejected as it stands. */
  fatal = false;
  /** After each push: the buffer scanned, where its complete records end, and the rejected records among them. */
  region: Buffer = Buffer.alloc(0);
  regionEnd = 0;
  readonly rejected: RejectedRecord[] = [];

  private readonly maxErrors: number;
  private readonly keepRejected: boolean;
  private readonly firstLine: number | undefined;
  private copyData: CopyData | undefined;
  private carry: Buffer | undefined;
  private ended = false;
  private fileStart = true;
  private line = 1;
  private crlf: boolean | undefined;
  private tables: Uint8Array[] = [];
  private kinds: ValueKind[] = [];
  private maxLengths = new Int32Array(0);
  private shapes: Array<ShapeCheck | undefined> = [];
  private idColumn = -1;
  private moneyColumns: boolean[] = [];
  /** The money of the record being scanned in full, counted once it is valid. */
  private recordCents = 0;
  private recordBigCents = 0n;
  private readonly ids = new RecordIdSet();
  /** The next invalid UTF-8 sequence or C1 control character in the region; `utf8End`: where its complete records end. */
  private nextBadChar = Infinity;
  private utf8End = 0;
  private regionIsUtf8 = true;
  /** The current record's problems; a count instead of array lengths, which are slow to reset on every record. */
  private readonly pendingColumns: Array<number | undefined> = [];
  private readonly pendingReasons: string[] = [];
  private pending = 0;

  constructor(
    private readonly type: FileType,
    options: ValidatorOptions = {},
  ) {
    this.maxErrors = options.maxErrors ?? MAX_REPORTED_ERRORS;
    this.keepRejected = options.keepRejected ?? false;
    this.firstLine = options.firstLine;
    this.copyData = options.copyData ? new CopyData() : undefined;
  }

  push(chunk: Buffer): void {
    if (this.fatal) return;
    let rest = chunk;
    const lf = this.carry && !this.keepRejected ? chunk.indexOf(LF) : -1;
    if (lf >= 0) {
      // Finish the carried record on its own, so that the chunk is scanned where it lies rather than copied after
      // it. Lenient loads skip this: they forward one contiguous region per push.
      const head = Buffer.concat([this.carry!, chunk.subarray(0, lf + 1)]);
      this.carry = undefined;
      this.scan(head, false);
      rest = chunk.subarray(lf + 1);
      if (this.fatal || rest.length === 0) return;
    }
    this.scan(this.carry ? Buffer.concat([this.carry, rest]) : rest, false);
  }

  /** What COPY is to load of the bytes pushed so far (`copyData` only; copy-data.ts), taken once. */
  takeCopyData(): Buffer[] {
    return this.copyData?.take() ?? [];
  }

  /** No more COPY data: the file is refused, and is only read on for its error count. */
  stopCopyData(): void {
    this.copyData = undefined;
  }

  /** The record ids of the file's valid records so far, as runs. */
  idRuns(): IdRuns {
    return this.ids.runs();
  }

  /** Scans what is left (a last record without a line break) and settles whole-file problems. */
  end(): void {
    if (this.fatal || this.ended) return;
    this.ended = true;
    const rest = this.carry;
    this.carry = undefined;
    if (rest) this.scan(rest, true);
    else {
      this.regionEnd = 0;
      this.rejected.length = 0;
    }
    if (this.fatal) return;
    this.copyData?.end();
    if (!this.header) this.report(1, undefined, 'the file is empty');
    else if (this.records === 0) this.report(2, undefined, 'the file has a header but no rows');
  }

  private report(line: number, column: number | undefined, reason: string): void {
    this.errorCount++;
    if (this.errors.length >= this.maxErrors) return;
    const name = column === undefined ? undefined : this.header?.[column];
    this.errors.push(name === undefined ? { line, reason } : { line, column: name, reason });
  }

  private pend(column: number | undefined, reason: string): void {
    this.pendingColumns[this.pending] = column;
    this.pendingReasons[this.pending++] = reason;
  }

  private scan(buf: Buffer, final: boolean): void {
    // Complete records end at a line feed (ASCII), so [0, limit) never splits a UTF-8 sequence.
    const limit = final ? buf.length : buf.lastIndexOf(LF) + 1;
    this.utf8End = limit;
    this.regionIsUtf8 = isUtf8(buf.subarray(0, limit));
    this.nextBadChar = this.badCharFrom(buf, 0);
    this.rejected.length = 0;
    let p = 0;
    // A UTF-8 BOM, once: decided as soon as three bytes (or the whole file) are in, so a BOM after it, whatever the
    // chunking, is the header's text, as it is in a file read whole.
    if (this.fileStart && (buf.length >= 3 || final)) {
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) p = 3;
      this.fileStart = false;
    }
    while (p < limit && !this.fatal) {
      if (this.header && !final) {
        p = this.cleanRecords(buf, p, limit);
        if (p >= limit) break;
      }
      const end = this.record(buf, p, limit, final);
      if (end < 0) break;
      p = end;
      this.fileStart = false;
    }
    this.region = buf;
    this.regionEnd = p;
    if (!this.fatal) this.copyData?.cut(buf);
    if (final || this.fatal) return;
    this.carry = p < buf.length ? buf.subarray(p) : undefined;
    // The record so far, less a last CR that may start its CRLF: longer than the limit whatever follows.
    if (this.carry && this.carry.length - (this.carry[this.carry.length - 1] === CR ? 1 : 0) > MAX_RECORD_BYTES) {
      this.report(this.line, undefined, TOO_LONG);
      this.fatal = true;
    }
  }

  /** Where the first invalid UTF-8 sequence or C1 control character at or after `from` in the region is. */
  private badCharFrom(buf: Buffer, from: number): number {
    const c1 = c1Offset(buf, from, this.utf8End);
    return this.regionIsUtf8 ? c1 : Math.min(c1, utf8ErrorOffset(buf, from, this.utf8End));
  }

  /**
   * The fast path, for the records of nearly every file: unquoted, every value valid, the usual line ending. Scans
   * clean records from `start` while they last and returns where the first other one starts, which `record` then
   * scans in full. Only a line feed before the end of `buf` can stop its byte loops, hence no bounds checks.
   */
  private cleanRecords(buf: Buffer, start: number, limit: number): number {
    const { tables, maxLengths, shapes, idColumn, moneyColumns, ids, crlf: crlfFile, nextBadChar, moneySum } = this;
    const last = tables.length - 1;
    let p = start,
      next = start,
      clean = 0;
    records: while (next < limit) {
      p = next;
      let id = -1,
        cents = 0;
      for (let field = 0; field <= last; field++) {
        const table = tables[field]!;
        const fieldStart = p;
        let cls: number;
        while ((cls = table[buf[p]!]!) === ByteClass.Ok) p++;
        if (field < last ? cls !== ByteClass.Comma : cls !== ByteClass.Lf && cls !== ByteClass.Cr) break records;
        const len = p - fieldStart;
        if (len === 0 || len > maxLengths[field]!) break records;
        if (field === idColumn) id = recordIdValue(buf, fieldStart, p);
        else {
          const shape = shapes[field];
          if (shape !== undefined && !shape(buf, fieldStart, p)) break records;
          // A value too large for a Number's cents: record() adds it as a bigint.
          if (moneyColumns[field]) {
            cents += moneyCents(buf, fieldStart, p);
            if (Number.isNaN(cents)) break records;
          }
        }
        p++;
      }
      // p is just past the last value's LF or CR.
      const crlf = buf[p - 1] === CR;
      if (crlf) {
        if (buf[p] !== LF) break;
        p++;
      }
      if (crlf !== crlfFile || nextBadChar < p || id <= 0 || !ids.add(id)) break;
      moneySum.add(cents);
      this.copyData?.mark(next, p, this.line + clean);
      next = p;
      clean++;
    }
    this.line += clean;
    this.records += clean;
    this.rows += clean;
    return next;
  }

  /** Scans one record from `start`; returns where the next one starts, or -1 when it does not end before `limit`. */
  private record(buf: Buffer, start: number, limit: number, final: boolean): number {
    const header = this.header === undefined;
    const names: string[] | undefined = header ? [] : undefined;
    this.pending = 0;
    this.recordCents = 0;
    this.recordBigCents = 0n;
    if (buf[start] === LF || (buf[start] === CR && buf[start + 1] === LF)) {
      if (header) {
        this.report(1, undefined, 'the file has no header: its first line is empty');
        this.fatal = true;
        return -1;
      }
      return this.commit(start, start + (buf[start] === LF ? 1 : 2), 0, -1, false, true);
    }
    let p = start,
      field = 0,
      lines = 0,
      id = -1,
      unterminated = false;
    let cls: number = ByteClass.Ok;
    for (;;) {
      const kind = field < this.kinds.length ? this.kinds[field] : undefined;
      const fieldStart = p;
      let content = p,
        contentEnd: number,
        escapes = 0;
      let problem: string | undefined;
      if (buf[p] === QUOTE) {
        let escaped = false,
          newline = false,
          q = p + 1;
        for (;;) {
          let c: number = ByteClass.Ok;
          while (q < limit && (c = QUOTED_TABLE[buf[q]!]!) === ByteClass.Ok) q++;
          if (q >= limit) {
            if (!final) return -1;
            problem = 'unterminated quoted value';
            unterminated = true;
            break;
          }
          if (c === ByteClass.Lf) {
            lines++;
            newline = true;
          } else if (c === ByteClass.Cr) {
            // Part of a quoted CRLF (its LF is counted next), or a bare CR: an error in quotes as outside them.
            if (buf[q + 1] !== LF) problem ??= 'carriage return without line feed';
          } else if (c === ByteClass.Bad) problem ??= badByteReason(kind ?? 'text', buf[q]!);
          else if (buf[q + 1] === QUOTE) {
            escaped = true;
            escapes++;
            q++;
          } else break;
          q++;
        }
        content = p + 1;
        contentEnd = Math.min(q, limit);
        p = Math.min(q + 1, limit);
        cls = p < limit ? ANY_TABLE[buf[p]!]! : ByteClass.Lf;
        if (cls === ByteClass.Ok || cls === ByteClass.Quote || cls === ByteClass.Bad || (cls === ByteClass.Cr && buf[p + 1] !== LF)) {
          problem ??= 'unexpected character after a closing quote';
          p = this.skipField(buf, p, limit);
          cls = p < limit ? ANY_TABLE[buf[p]!]! : ByteClass.Lf;
        } else if (kind !== undefined && kind !== 'text' && (escaped || newline)) {
          problem ??= formatReason(kind);
        } else if (kind !== undefined && kind !== 'text' && problem === undefined) {
          // A quoted value must pass the same byte table as an unquoted one (where a comma is no character either).
          const table = KIND_TABLE[kind];
          for (let i = content; i < contentEnd; i++) {
            if (table[buf[i]!] !== ByteClass.Ok) {
              problem = badByteReason(kind, buf[i]!);
              break;
            }
          }
        }
      } else {
        const table = kind === undefined ? ANY_TABLE : this.tables[field]!;
        while (p < limit && (cls = table[buf[p]!]!) === ByteClass.Ok) p++;
        if (p >= limit) {
          if (!final) return -1;
          cls = ByteClass.Lf;
        } else if (cls === ByteClass.Bad || cls === ByteClass.Quote || (cls === ByteClass.Cr && buf[p + 1] !== LF)) {
          problem = cls === ByteClass.Quote ? 'quote inside an unquoted value' : cls === ByteClass.Cr ? 'carriage return without line feed' : badByteReason(kind ?? 'text', buf[p]!);
          p = this.skipField(buf, p, limit);
          cls = p < limit ? ANY_TABLE[buf[p]!]! : ByteClass.Lf;
        }
        contentEnd = p;
      }
      if (this.nextBadChar < p) {
        problem = c1Reason(buf, this.nextBadChar) ?? 'invalid UTF-8';
        this.nextBadChar = this.badCharFrom(buf, p);
      }
      if (names) {
        names.push(quotedName(buf, fieldStart, content, contentEnd));
        if (problem !== undefined) this.pend(field, problem);
      } else if (kind !== undefined) {
        // A value's length, not its encoding's: a doubled quote counts once.
        problem ??= invalidValue(kind, buf, content, contentEnd, escapes);
        if (problem !== undefined) this.pend(field, problem);
        else if (field === this.idColumn) id = recordIdValue(buf, content, contentEnd);
        else if (kind === 'money') this.addRecordMoney(buf, content, contentEnd);
      } else if (problem !== undefined) this.pend(field, problem);
      field++;
      if (cls === ByteClass.Comma) {
        p++;
        continue;
      }
      // The record ends: at a line feed, a CRLF, or the end of the file.
      const crlf = cls === ByteClass.Cr;
      const end = p >= limit ? limit : p + (crlf ? 2 : 1);
      if (p - start > MAX_RECORD_BYTES) {
        this.report(this.line, undefined, TOO_LONG);
        this.fatal = true;
        return -1;
      }
      if (names) {
        this.readHeader(names);
        this.crlf = p >= limit ? undefined : crlf;
        this.line = this.firstLine ?? this.line + 1 + lines;
        if (!this.fatal) this.copyData?.begin(this.kinds);
        return end;
      }
      if (p < limit) {
        if (this.crlf === undefined) this.crlf = crlf;
        else if (this.crlf !== crlf) this.pend(undefined, 'mixed line endings: use either LF or CRLF throughout');
      }
      if (field !== this.kinds.length && !unterminated) this.pend(undefined, `expected ${this.kinds.length} values, found ${field}`);
      return this.commit(start, end, lines, id, true, false);
    }
  }

  /** Skips the rest of a field already known to be bad, up to the comma or line break that ends it. */
  private skipField(buf: Buffer, p: number, limit: number): number {
    while (p < limit) {
      const c = ANY_TABLE[buf[p]!];
      if (c === ByteClass.Comma || c === ByteClass.Lf || (c === ByteClass.Cr && buf[p + 1] === LF)) break;
      p++;
    }
    return p;
  }

  /** A data record has ended: its errors are reported, or it counts as a row and its record id as seen. */
  private commit(start: number, end: number, lines: number, id: number, data: boolean, emptyLine: boolean): number {
    const line = this.line;
    this.line += 1 + lines;
    // Every error of the record is reported: a repeated id beside other errors too. Only valid rows' ids count as seen.
    if (emptyLine) this.pend(undefined, 'empty line');
    else if (id > 0 && (this.pending === 0 ? !this.ids.add(id) : this.ids.has(id))) this.pend(this.idColumn, 'duplicate record_id');
    if (data) this.records++;
    if (this.pending === 0) {
      this.rows++;
      this.moneySum.add(this.recordCents);
      if (this.recordBigCents !== 0n) this.moneySum.addBig(this.recordBigCents);
      this.copyData?.mark(start, end, line);
      return end;
    }
    for (let i = 0; i < this.pending; i++) this.report(line, this.pendingColumns[i], this.pendingReasons[i]!);
    if (this.keepRejected) this.rejected.push({ start, end, line, reason: this.pendingReasons.slice(0, this.pending).join('; ') });
    return end;
  }

  private addRecordMoney(buf: Buffer, start: number, end: number): void {
    const cents = moneyCents(buf, start, end);
    if (Number.isNaN(cents)) this.recordBigCents += bigMoneyCents(buf, start, end);
    else this.recordCents += cents;
  }

  /** The header's names, and its cells' own problems (pending: a quote, a control character) as in a data row. */
  private readHeader(names: string[]): void {
    const schema = names.map((n) => columnForHeader(this.type, n));
    const seen = new Set<string>();
    // An unknown header cell may be data (a headerless file's first row): reports name it only when it is safe.
    this.header = names.map((n, i) => (schema[i] ? n : headerLabel(n, i)));
    for (let i = 0; i < this.pending; i++) this.report(1, this.pendingColumns[i], this.pendingReasons[i]!);
    schema.forEach((column, i) => {
      if (!column) this.report(1, i, `unknown column ${SAFE_NAME.test(names[i]!) ? `"${names[i]}"` : `${i + 1} (${characters(names[i]!)})`} for a ${this.type} file`);
      else if (seen.has(column.name)) this.report(1, i, `column ${column.name} appears twice`);
      else seen.add(column.name);
    });
    for (const c of FILE_SCHEMAS[this.type]) if (!seen.has(c.name)) this.report(1, undefined, `missing column ${c.name}`);
    // Values cannot be judged, nor loaded, against a header that does not fit the schema.
    if (this.errorCount > 0) {
      this.fatal = true;
      return;
    }
    this.kinds = schema.map((c) => c!.kind);
    this.tables = this.kinds.map((k) => KIND_TABLE[k]);
    this.maxLengths = Int32Array.from(this.kinds, (k) => MAX_LENGTH[k]);
    this.shapes = this.kinds.map((k) => shapeCheck[k]);
    this.idColumn = schema.findIndex((c) => c!.kind === 'record_id');
    this.moneyColumns = this.kinds.map((k) => k === 'money');
    this.copyColumns = schema.map((c) => c!.name);
  }
}

/**
 * An unknown header cell is quoted in reports only when it looks like a column name (lower-case snake_case with an
 * underscore, at most 40 characters), never a person's name, reference or number; else by position and length.
 */
const SAFE_NAME = /^(?=.{1,40}$)[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/;
const characters = (text: string) => {
  const n = [...text].length;
  return `${n} character${n === 1 ? '' : 's'}`;
};
const headerLabel = (name: string, i: number) => (SAFE_NAME.test(name) ? name : `column ${i + 1}`);

/** A header name, unquoted when it was quoted. */
function quotedName(buf: Buffer, fieldStart: number, content: number, contentEnd: number): string {
  const text = buf.toString('utf8', content, contentEnd);
  return content > fieldStart ? text.replaceAll('""', '"') : text;
}
