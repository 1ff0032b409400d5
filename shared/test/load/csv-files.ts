import fc from 'fast-check';
import { FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import { FILE_SCHEMAS, type ValueKind } from '@dataharvest/events/file-schemas';
import { CURRENCY_CODES } from '@dataharvest/shared/load/currencies';
import { CsvValidator } from '@dataharvest/shared/load/csv-validator';

/** Generators of valid CSV files for the property tests, with what each file should load as. */

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));

const validValue: Record<Exclude<ValueKind, 'record_id'>, fc.Arbitrary<string>> = {
  account: digits(1, 34),
  money: fc.tuple(fc.boolean(), digits(1, 15), fc.option(digits(1, 2), { nil: undefined })).map(([neg, int, dec]) => `${neg ? '-' : ''}${int}${dec === undefined ? '' : `.${dec}`}`),
  currency: fc.constantFrom(...CURRENCY_CODES),
  uuid: fc.uuid().chain((u) => fc.constantFrom(u, u.toUpperCase())),
  reference: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  keyword: fc.stringMatching(/^[A-Z_]{1,32}$/),
  code: fc.stringMatching(/^[A-Z0-9]{1,16}$/),
  // Any text a person's name could hold, RFC 4180 specials and line breaks included; never control characters.
  text: fc
    .string({ unit: fc.oneof(fc.constantFrom(',', '"', '\n', '\r\n', ' ', '\t', 'ü', '€', '𝄞'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 20 })
    .filter((t) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(t.replaceAll('\r\n', '')) && !/\r(?!\n)/.test(t) && Buffer.byteLength(t) <= 200),
};

/** Values each kind refuses, with the problem the validator should name. */
export const invalidValue: Record<ValueKind, fc.Arbitrary<string>> = {
  record_id: fc.constantFrom('0', '-1', 'abc', '1.5', '2147483648', '', '01', ' 1'),
  account: fc.constantFrom('A12', '12-3', '', '1 2', '1'.repeat(35)),
  money: fc.constantFrom('1.234', 'abc', '1,5', '--1', '1e5', '.5', '1.', '', '+1', '1234567890123456'),
  currency: fc.constantFrom('EURO', 'eur', 'XXY', 'E1R', '', 'XXX'),
  uuid: fc.constantFrom('not-a-uuid', '9e40659b-8b9f-4fc4-814b-5a7b5a23b64', '9e40659b8b9f-4fc4-814b-5a7b5a23b64d0', 'ge40659b-8b9f-4fc4-814b-5a7b5a23b64d'),
  reference: fc.constantFrom('a b', 'a.b', 'x'.repeat(65), '', 'a,b'),
  keyword: fc.constantFrom('deposit', 'DEP OSIT', '1X', ''),
  code: fc.constantFrom('abc', 'A-B', ''),
  text: fc.constantFrom('x'.repeat(201), 'a\u0001b', '', 'nul\u0000byte'),
};

const needsQuotes = (v: string) => /[",\r\n]/.test(v);
const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;

export interface CsvFile {
  type: FileType;
  text: string;
  /** Header names as written, in file order. */
  header: string[];
  /** Each data row's values by canonical column name, and the line where it starts (header = 1). */
  rows: Array<{ values: Record<string, string>; line: number }>;
  /** Column positions in file order, as indexes into the schema. */
  order: number[];
  rowFields: string[][];
  eol: string;
  bom: boolean;
  finalNewline: boolean;
  quoted: boolean[][];
}

/** A valid file of any type: columns in any order and spelling, any quoting, LF or CRLF, optional BOM and final newline. */
export const validFile: fc.Arbitrary<CsvFile> = fc
  .constantFrom(...FILE_TYPES)
  .chain((type) => {
    const schema = FILE_SCHEMAS[type];
    const n = schema.length;
    const row = fc.tuple(fc.tuple(...schema.map((c) => (c.kind === 'record_id' ? fc.constant('') : validValue[c.kind]))), fc.array(fc.boolean(), { minLength: n, maxLength: n }));
    return fc.record({
      type: fc.constant(type),
      order: fc.shuffledSubarray([...schema.keys()], { minLength: n, maxLength: n }),
      alias: fc.boolean(),
      upper: fc.boolean(),
      ids: fc.uniqueArray(fc.integer({ min: 1, max: 2_147_483_647 }), { minLength: 1, maxLength: 25 }),
      rows: fc.array(row, { minLength: 25, maxLength: 25 }),
      crlf: fc.boolean(),
      bom: fc.boolean(),
      finalNewline: fc.boolean(),
    });
  })
  .map(({ type, order, alias, upper, ids, rows, crlf, bom, finalNewline }) => {
    const schema = FILE_SCHEMAS[type];
    const eol = crlf ? '\r\n' : '\n';
    const header = order.map((i) => {
      const c = schema[i]!;
      const name = alias && c.aliases ? c.aliases[0]! : c.name;
      return upper ? name.toUpperCase() : name;
    });
    const out: CsvFile = { type, text: '', header, rows: [], order, rowFields: [], eol, bom, finalNewline, quoted: [] };
    let line = 2;
    ids.forEach((id, r) => {
      const [values, quoteFlags] = rows[r]!;
      const byName: Record<string, string> = {};
      schema.forEach((c, i) => {
        byName[c.name] = c.kind === 'record_id' ? String(id) : values[i]!;
      });
      const fields = order.map((i) => byName[schema[i]!.name]!);
      out.rows.push({ values: byName, line });
      out.rowFields.push(fields);
      out.quoted.push(order.map((_, k) => quoteFlags[k]!));
      line += 1 + fields.reduce((sum, f) => sum + (f.match(/\n/g)?.length ?? 0), 0);
    });
    out.text = render(out);
    return out;
  });

/** The file's text from its parts; a value with a quote, comma or line break is always quoted. */
export function render(f: Pick<CsvFile, 'header' | 'rowFields' | 'quoted' | 'eol' | 'bom' | 'finalNewline'>): string {
  const lines = [f.header.join(','), ...f.rowFields.map((fields, r) => fields.map((v, k) => (f.quoted[r]![k] || needsQuotes(v) ? quote(v) : v)).join(','))];
  return `${f.bom ? '\uFEFF' : ''}${lines.join(f.eol)}${f.finalNewline ? f.eol : ''}`;
}

export interface Validated {
  rows: number;
  records: number;
  errorCount: number;
  errors: unknown[];
  copyColumns: string[] | undefined;
  fatal: boolean;
}

/** Runs the validator over `bytes` cut at `cuts` (offsets, any order), as the object store's chunks would arrive. */
export function validate(type: FileType, bytes: Buffer, cuts: number[] = []): Validated {
  const v = new CsvValidator(type);
  let from = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    v.push(bytes.subarray(from, cut));
    from = cut;
  }
  v.push(bytes.subarray(from));
  v.end();
  return { rows: v.rows, records: v.records, errorCount: v.errorCount, errors: v.errors, copyColumns: v.copyColumns, fatal: v.fatal };
}

/** What a lenient load would send to COPY (the complete records minus the rejected ones), and what it rejects. */
export function lenientCut(type: FileType, bytes: Buffer, cuts: number[] = []): { kept: Buffer; rejected: Array<{ line: number; raw: string }> } {
  const v = new CsvValidator(type, { keepRejected: true });
  const kept: Buffer[] = [];
  const rejected: Array<{ line: number; raw: string }> = [];
  const forward = () => {
    let from = 0;
    for (const r of v.rejected) {
      kept.push(v.region.subarray(from, r.start));
      rejected.push({ line: r.line, raw: v.region.toString('utf8', r.start, r.end) });
      from = r.end;
    }
    kept.push(v.region.subarray(from, v.regionEnd));
  };
  let from = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    v.push(bytes.subarray(from, cut));
    forward();
    from = cut;
  }
  v.push(bytes.subarray(from));
  forward();
  v.end();
  forward();
  return { kept: Buffer.concat(kept), rejected };
}
