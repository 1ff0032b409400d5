import fc from 'fast-check';
import { FILE_SCHEMAS } from '@dataharvest/events/file-schemas';
import { invalidValue, lenientCut, render, validate, validFile, type CsvFile } from './csv-files';

/** One cell of a generated file: the file with a row and a column of it. */
const cellOf = (file: CsvFile) => ({
  file: fc.constant(file),
  row: fc.integer({ min: 0, max: file.rows.length - 1 }),
  column: fc.integer({ min: 0, max: file.header.length - 1 }),
});
const cuts = (length: number) => fc.array(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 12 });

describe('CsvValidator properties', () => {
  it('passes every valid file, counting its rows and mapping its header to the canonical columns', () => {
    fc.assert(
      fc.property(validFile, (file) => {
        const result = validate(file.type, Buffer.from(file.text));
        expect(result.errors).toEqual([]);
        expect(result.rows).toBe(file.rows.length);
        expect(result.copyColumns).toEqual(file.order.map((i) => FILE_SCHEMAS[file.type][i]!.name));
      }),
      { numRuns: 300 },
    );
  });

  it('reports a single bad value at its line and column, and only there', () => {
    const corrupted = validFile.chain((file) => fc.record(cellOf(file)).chain((c) => invalidValue[FILE_SCHEMAS[file.type][file.order[c.column]!]!.kind].map((bad) => ({ ...c, bad }))));
    fc.assert(
      fc.property(corrupted, ({ file, row, column, bad }) => {
        const rowFields = file.rowFields.map((fields, r) => (r === row ? fields.map((v, k) => (k === column ? bad : v)) : fields));
        const text = render({ ...file, rowFields });
        const result = validate(file.type, Buffer.from(text));
        expect(result.errors).toEqual([{ line: file.rows[row]!.line, column: file.header[column], reason: expect.any(String) }]);
        expect(result.errorCount).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('reports a broken byte (NUL, invalid UTF-8) at its line and column', () => {
    const broken = validFile.chain((file) =>
      fc.record({
        ...cellOf(file),
        byte: fc.constantFrom(0x00, 0xff, 0xc3, 0x80, 0x01),
      }),
    );
    fc.assert(
      fc.property(broken, ({ file, row, column, byte }) => {
        const marker = '\u2063'; // a character no generated value contains, replaced by the broken byte
        const rowFields = file.rowFields.map((fields, r) => (r === row ? fields.map((v, k) => (k === column ? `${v}${marker}` : v)) : fields));
        const bytes = Buffer.from(render({ ...file, rowFields }));
        const at = bytes.indexOf(Buffer.from(marker));
        const corrupt = Buffer.concat([bytes.subarray(0, at), Buffer.from([byte]), bytes.subarray(at + Buffer.byteLength(marker))]);
        const result = validate(file.type, corrupt);
        expect(result.errors).toEqual([{ line: file.rows[row]!.line, column: file.header[column], reason: expect.any(String) }]);
      }),
      { numRuns: 200 },
    );
  });

  it('cuts exactly the bad record out of a lenient load, leaving valid CSV, however the bytes are chunked', () => {
    const corrupted = validFile
      .filter((f) => f.rows.length >= 2)
      .chain((file) =>
        fc
          .record({
            file: fc.constant(file),
            row: fc.integer({ min: 0, max: file.rows.length - 1 }),
            column: fc.integer({ min: 0, max: file.header.length - 1 }),
            cuts: fc.array(fc.nat(), { maxLength: 10 }),
          })
          .chain((c) => invalidValue[FILE_SCHEMAS[file.type][file.order[c.column]!]!.kind].map((bad) => ({ ...c, bad }))),
      );
    fc.assert(
      fc.property(corrupted, ({ file, row, column, cuts, bad }) => {
        const rowFields = file.rowFields.map((fields, r) => (r === row ? fields.map((v, k) => (k === column ? bad : v)) : fields));
        const bytes = Buffer.from(render({ ...file, rowFields }));
        const { kept, rejected } = lenientCut(
          file.type,
          bytes,
          cuts.map((c) => c % bytes.length),
        );
        expect(rejected.map((r) => r.line)).toEqual([file.rows[row]!.line]);
        // Nothing lost or duplicated: the kept bytes and the rejected record make up the file.
        expect(kept.length + Buffer.byteLength(rejected[0]!.raw)).toBe(bytes.length);
        expect(validate(file.type, kept)).toMatchObject({ rows: file.rows.length - 1, errorCount: 0 });
        expect(lenientCut(file.type, bytes)).toEqual({ kept, rejected });
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same verdict however the bytes are cut into chunks', () => {
    const anyFile = fc
      .oneof(
        validFile.map((f) => ({ type: f.type, text: f.text })),
        validFile.chain((f) => fc.integer({ min: 0, max: f.text.length - 1 }).map((i) => ({ type: f.type, text: f.text.slice(0, i) + f.text.slice(i + 1) }))),
        validFile.chain((f) =>
          fc
            .tuple(fc.integer({ min: 0, max: f.text.length }), fc.constantFrom('"', ',', '\n', '\r', '\u0000', 'x', '\r\n'))
            .map(([i, s]) => ({ type: f.type, text: f.text.slice(0, i) + s + f.text.slice(i) })),
        ),
      )
      .chain(({ type, text }) => fc.tuple(fc.constant(type), fc.constant(Buffer.from(text)), cuts(Buffer.byteLength(text))));
    fc.assert(
      fc.property(anyFile, ([type, bytes, at]) => {
        expect(validate(type, bytes, at)).toEqual(validate(type, bytes));
      }),
      { numRuns: 400 },
    );
  });
});

/** Byte strings that break a file in the ways a careless client or an attacker would, inserted anywhere. */
const breakage = fc.constantFrom(
  ...['"', '""', ',', '\n', '\r', '\r\n', '\u0000', '\u0001', '\u0085', '\u009f', '\t', 'x', ' ', '"x', '\uFEFF'].map((s) => Buffer.from(s)),
  Buffer.from([0xff]),
  Buffer.from([0xc2]),
  Buffer.from([0xe2, 0x82]),
);

/** A valid file with up to four pieces of breakage inserted at any byte (a multi-byte character may be split too). */
const brokenFile = validFile.chain((f) => {
  const bytes = Buffer.from(f.text);
  return fc.array(fc.tuple(fc.integer({ min: 0, max: bytes.length }), breakage), { maxLength: 4 }).map((edits) => {
    let out = bytes;
    for (const [at, piece] of edits) out = Buffer.concat([out.subarray(0, Math.min(at, out.length)), piece, out.subarray(Math.min(at, out.length))]);
    return { type: f.type, bytes: out, around: [] as number[], minChunk: 1 };
  });
});

/** A record of about 1 MiB, its length (line break aside) 1 MiB less one to 1.5 MiB, closed or left open, LF or CRLF. */
const longRecord = fc.record({ extra: fc.constantFrom(-1, 0, 1, 2, 1 << 19), eol: fc.constantFrom('\n', '\r\n'), closed: fc.boolean(), after: fc.boolean() }).map(({ extra, eol, closed, after }) => {
  const head = `record_id,accout_number,transaction_reference,amount,keyword${eol}1,1,a,1,X${eol}`;
  const open = '2,1,"';
  const close = closed ? '",1,X' : '';
  const length = (1 << 20) + extra;
  const record = open + 'a'.repeat(length - open.length - close.length) + close;
  const text = head + record + eol + (after ? `3,1,a,1,X${eol}` : '');
  const end = Buffer.byteLength(head) + length;
  // Chunks of at least 16 KiB, as the object store sends them: carrying a 1 MiB record over byte-sized chunks would
  // copy it a million times.
  return { type: 'transactions' as const, bytes: Buffer.from(text), around: [end - 1, end, end + 1, end + 2], minChunk: 1 << 14 };
});

describe('CsvValidator: chunking never changes the outcome', () => {
  it('gives any file, split anywhere, the verdict, errors and rejected rows it gets whole', () => {
    const split = fc.oneof({ weight: 4, arbitrary: brokenFile }, { weight: 1, arbitrary: longRecord }).chain((file) =>
      fc.record({
        file: fc.constant(file),
        at: fc.oneof(
          cuts(file.bytes.length),
          fc.integer({ min: file.minChunk, max: 1 << 16 }).map((size) => Array.from({ length: Math.ceil(file.bytes.length / size) }, (_, i) => i * size)),
          fc.subarray(file.around).chain((near) => cuts(file.bytes.length).map((c) => [...c, ...near])),
        ),
      }),
    );
    fc.assert(
      fc.property(split, ({ file, at }) => {
        const whole = validate(file.type, file.bytes);
        expect(validate(file.type, file.bytes, at)).toEqual(whole);
        // A refused file's load is abandoned: what a lenient load would have kept matters only for the others.
        if (!whole.fatal) expect(lenientCut(file.type, file.bytes, at)).toEqual(lenientCut(file.type, file.bytes));
      }),
      { numRuns: 300 },
    );
  });
});
