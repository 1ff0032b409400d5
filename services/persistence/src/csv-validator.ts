import { isUtf8 } from 'node:buffer';
import type { FileType, RowError } from '@dataharvest/events/batch';
import { columnForHeader, FILE_SCHEMAS, type ColumnSchema } from '@dataharvest/events/file-schemas';
import { invalidValue, recordId } from './values';
import { RecordIdSet } from './record-id-set';

const QUOTE = 34, COMMA = 44, CR = 13, LF = 10, TAB = 9;
const enum S { FieldStart, Unquoted, Quoted, QuoteInQuoted, AfterCr }
/** No valid value is longer than this; a longer field is kept only up to here, enough to reject it. */
const FIELD_MAX = 256;

export interface ValidationResult { rows: number; errors: RowError[]; errorCount: number; columns?: string[] }

/**
 * A streaming RFC 4180 validator that looks at every byte once and allocates nothing per row, so the original
 * buffers can go to COPY untouched. It checks the header against the file type's schema (by name, through
 * aliases), then every value, the column count, record id uniqueness, UTF-8 and line endings. Errors carry the
 * line (header = 1) where the record starts, the column as the file names it, and a reason.
 */
export class CsvValidator {
  private state = S.FieldStart;
  private readonly field = new Uint8Array(FIELD_MAX);
  private fieldLen = 0;
  private fieldIndex = 0;
  private line = 1;
  private recordLine = 1;
  private header: string[] | undefined = [];
  private schema: Array<ColumnSchema | undefined> = [];
  private recordIds = new RecordIdSet();
  private crlf: boolean | undefined;
  private blankLine = 0;
  private utf8Tail = Buffer.alloc(0);
  private headerInvalid = false;
  rows = 0;
  errorCount = 0;
  readonly errors: RowError[] = [];
  columns: string[] | undefined;

  constructor(private readonly type: FileType, private readonly maxErrors = 100) {}

  get failed(): boolean {
    return this.errorCount > 0;
  }

  private error(line: number, reason: string, column?: number): void {
    this.errorCount++;
    if (this.errors.length < this.maxErrors) {
      const name = column === undefined ? undefined : this.header?.[column] ?? this.columns?.[column];
      this.errors.push(name === undefined ? { line, reason } : { line, column: name, reason });
    }
  }

  push(chunk: Buffer): void {
    let badUtf8At = this.firstInvalidUtf8(chunk);
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (i === badUtf8At) { this.error(this.line, 'invalid UTF-8', this.fieldIndex); badUtf8At = -1; }
      if (b < 32 && b !== LF && b !== CR && b !== TAB) {
        this.error(this.line, b === 0 ? 'binary content (NUL byte)' : `control character 0x${b.toString(16).padStart(2, '0')}`, this.fieldIndex);
        if (this.errorCount > 10_000 && b === 0) return this.abandon('binary file');
        continue;
      }
      switch (this.state) {
        case S.FieldStart:
          if (b === QUOTE) this.state = S.Quoted;
          else { this.state = S.Unquoted; i--; } // the byte starts an unquoted field: read it again as one
          break;
        case S.Unquoted:
          if (b === COMMA) this.endField();
          else if (b === LF) this.endRecord(false);
          else if (b === CR) this.state = S.AfterCr;
          else if (b === QUOTE) { this.error(this.line, 'quote inside an unquoted value', this.fieldIndex); this.append(b); }
          else this.append(b);
          break;
        case S.Quoted:
          if (b === QUOTE) this.state = S.QuoteInQuoted;
          else { if (b === LF) this.line++; this.append(b); }
          break;
        case S.QuoteInQuoted:
          if (b === QUOTE) { this.append(b); this.state = S.Quoted; }
          else if (b === COMMA) this.endField();
          else if (b === LF) this.endRecord(false);
          else if (b === CR) this.state = S.AfterCr;
          else { this.error(this.line, 'unexpected character after a closing quote', this.fieldIndex); this.state = S.Unquoted; }
          break;
        case S.AfterCr:
          if (b === LF) this.endRecord(true);
          else { this.error(this.line, 'carriage return without line feed', this.fieldIndex); this.state = S.Unquoted; i--; }
          break;
      }
    }
  }

  end(): ValidationResult {
    if (this.firstInvalidUtf8(Buffer.alloc(0), true) === 0) this.error(this.line, 'invalid UTF-8 at the end of the file');
    if (this.state === S.Quoted) this.error(this.recordLine, 'unterminated quoted value', this.fieldIndex);
    else if (this.state === S.AfterCr) this.endRecord(true);
    else if (this.state !== S.FieldStart || this.fieldIndex > 0) this.endRecord(this.crlf ?? false);
    if (this.header) this.error(1, 'the file is empty: no header');
    else if (this.rows === 0 && !this.headerInvalid) this.error(2, 'the file has a header but no rows');
    return { rows: this.rows, errors: this.errors, errorCount: this.errorCount, columns: this.columns };
  }

  private append(b: number): void {
    if (this.fieldLen < FIELD_MAX) this.field[this.fieldLen] = b;
    this.fieldLen++;
  }

  private endField(): void {
    if (this.header) this.header.push(Buffer.from(this.field.subarray(0, Math.min(this.fieldLen, FIELD_MAX))).toString('utf8'));
    else this.checkValue();
    this.fieldIndex++;
    this.fieldLen = 0;
    this.state = S.FieldStart;
  }

  private checkValue(): void {
    const column = this.schema[this.fieldIndex];
    if (!column) return;
    const len = Math.min(this.fieldLen, FIELD_MAX);
    const reason = this.fieldLen > FIELD_MAX ? 'value longer than 256 bytes' : invalidValue(column.kind, this.field, len);
    if (reason) return this.error(this.recordLine, reason, this.fieldIndex);
    if (column.kind === 'record_id' && !this.recordIds.add(recordId(this.field, len))) this.error(this.recordLine, 'duplicate record_id', this.fieldIndex);
  }

  private endRecord(crlf: boolean): void {
    const empty = this.fieldIndex === 0 && this.fieldLen === 0 && this.state !== S.QuoteInQuoted && !this.header;
    if (empty) {
      // Only an empty last line (a trailing newline) is harmless; one followed by more records is reported then.
      this.blankLine = this.blankLine || this.recordLine;
      this.state = S.FieldStart;
      this.line++;
      this.recordLine = this.line;
      return;
    }
    this.endField();
    if (this.crlf === undefined) this.crlf = crlf;
    else if (this.crlf !== crlf) this.error(this.recordLine, 'mixed line endings: use either LF or CRLF throughout');
    if (this.header) this.readHeader(this.header);
    else {
      if (this.blankLine) { this.error(this.blankLine, 'empty line'); this.blankLine = 0; }
      if (this.fieldIndex !== this.schema.length) this.error(this.recordLine, `expected ${this.schema.length} values, found ${this.fieldIndex}`);
      this.rows++;
    }
    this.fieldIndex = 0;
    this.line++;
    this.recordLine = this.line;
  }

  private readHeader(names: string[]): void {
    this.header = undefined;
    const bomless = names.map((n, i) => (i === 0 ? n.replace(/^\uFEFF/, '') : n));
    this.schema = bomless.map((n) => columnForHeader(this.type, n));
    this.columns = bomless;
    const seen = new Set<string>();
    bomless.forEach((name, i) => {
      const column = this.schema[i];
      if (!column) this.error(1, `unknown column "${name}" for a ${this.type} file`, i);
      else if (seen.has(column.name)) this.error(1, `column ${column.name} appears twice`, i);
      else seen.add(column.name);
    });
    for (const c of FILE_SCHEMAS[this.type]) if (!seen.has(c.name)) this.error(1, `missing column ${c.name}`);
    this.headerInvalid = this.failed;
    // Values cannot be judged against a header that does not fit the schema.
    if (this.headerInvalid) this.schema = [];
  }

  /** The canonical column names in the file's header order: the column list for COPY. */
  copyColumns(): string[] {
    return this.schema.map((c) => c!.name);
  }

  private abandon(reason: string): void {
    this.error(this.line, `${reason}: validation stopped`);
    this.state = S.FieldStart;
  }

  /** Index of the first byte of an invalid UTF-8 sequence in this chunk, carrying a split sequence to the next one. */
  private firstInvalidUtf8(chunk: Buffer, final = false): number {
    let tail = 0;
    while (tail < 3 && tail < chunk.length && (chunk[chunk.length - 1 - tail]! & 0xc0) === 0x80) tail++;
    if (tail < chunk.length && chunk[chunk.length - 1 - tail]! >= 0xc0) tail++;
    else tail = 0;
    const head = this.utf8Tail;
    const body = chunk.subarray(0, chunk.length - tail);
    this.utf8Tail = Buffer.from(chunk.subarray(chunk.length - tail));
    if (final) return this.utf8Tail.length || head.length ? 0 : -1;
    const probe = head.length ? Buffer.concat([head, body]) : body;
    return isUtf8(probe) ? -1 : Math.max(utf8ErrorOffset(probe) - head.length, 0);
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (RFC 3629). */
function utf8ErrorOffset(buf: Uint8Array): number {
  for (let i = 0; i < buf.length; ) {
    const b = buf[i]!;
    const [len, min, max] = b < 0x80 ? [1, 0, 0] : b >= 0xc2 && b <= 0xdf ? [2, 0x80, 0xbf] : b === 0xe0 ? [3, 0xa0, 0xbf]
      : b === 0xed ? [3, 0x80, 0x9f] : b >= 0xe1 && b <= 0xef ? [3, 0x80, 0xbf] : b === 0xf0 ? [4, 0x90, 0xbf]
      : b >= 0xf1 && b <= 0xf3 ? [4, 0x80, 0xbf] : b === 0xf4 ? [4, 0x80, 0x8f] : [0, 0, 0];
    if (len === 0) return i;
    if (len > 1) {
      const second = buf[i + 1];
      if (second === undefined || second < min || second > max) return i;
      for (let k = 2; k < len; k++) if (((buf[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    }
    i += len;
  }
  return buf.length;
}
