import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FileType } from '@dataharvest/events/batch';
import { baseTableDdl, columnForHeader, columnsDdl } from '@dataharvest/events/file-schemas';
import { CsvValidator } from '@dataharvest/shared/load/csv-validator';
import { CURRENCY_CODES, ISO_4217_PUBLISHED } from '@dataharvest/shared/load/currencies';
import { invalidValue } from '@dataharvest/shared/load/values';
import { decodeCopy } from './copy-decoder';
import { lenientCut, validate } from './csv-files';

const SAMPLE = 'examples/sample-batch';
const T = 'record_id,accout_number,transaction_reference,amount,keyword';
const tx = (...rows: string[]) => Buffer.from([T, ...rows].join('\n'));
const bytes = (s: string) => Buffer.from(s);

describe('file schemas', () => {
  it('maps headers by name through aliases, trimmed and case-insensitive', () => {
    expect(columnForHeader('accounts', 'accout_number')?.name).toBe('account_number');
    expect(columnForHeader('accounts', ' Account_Number ')?.name).toBe('account_number');
    expect(columnForHeader('clients', 'accout_number')).toBeUndefined();
  });

  it('generates partitioned DDL with NUMERIC money and the slice defaults for staging tables', () => {
    expect(baseTableDdl('accounts')).toBe(
      'CREATE TABLE IF NOT EXISTS accounts (client text NOT NULL, batch_date date NOT NULL, record_id integer NOT NULL, ' +
        'account_number text NOT NULL, cash_balance numeric(17,2) NOT NULL, currency char(3) NOT NULL, taxes_paid numeric(17,2) NOT NULL, line integer) PARTITION BY RANGE (client, batch_date)',
    );
    expect(columnsDdl('transactions', { client: "O'Neil", isoDate: '2020-01-30' })).toContain("client text NOT NULL DEFAULT 'O''Neil', batch_date date NOT NULL DEFAULT '2020-01-30'");
  });
});

describe('value checks', () => {
  const ok = (kind: Parameters<typeof invalidValue>[0], v: string) => invalidValue(kind, bytes(v), 0, Buffer.byteLength(v)) === undefined;
  it.each([
    ['money', ['0', '5000', '-789.56', '15000.00', '0.5', '007', '123456789012345.99']],
    ['record_id', ['1', '2147483647']],
    ['currency', ['EUR', 'USD', 'JPY', 'VED', 'CUC', 'ZWG', 'SLE', 'BOV', 'CHE', 'XAU', 'XDR']],
    ['uuid', ['9e40659b-8b9f-4fc4-814b-5a7b5a23b64d', '9E40659B-8B9F-4FC4-814B-5A7B5A23B64D']],
  ] as const)('accepts valid %s values', (kind, values) => {
    for (const v of values) expect([v, ok(kind, v)]).toEqual([v, true]);
  });
  it.each([
    ['money', ['', '1.234', '1.', '.5', '-', '1-2', '1.2.3', '1234567890123456']],
    ['record_id', ['', '0', '01', '2147483648', '99999999999']],
    ['currency', ['EU', 'EURO', 'XXY', 'AAA', 'XTS', 'XXX', 'HRK', 'VEF']],
    ['uuid', ['9e40659b-8b9f-4fc4-814b-5a7b5a23b64', '9e40659b8b9f-4fc4-814b-5a7b5a23b64d-']],
  ] as const)('refuses invalid %s values', (kind, values) => {
    for (const v of values) expect([v, ok(kind, v)]).toEqual([v, false]);
  });
  it('takes the currencies of ISO 4217 List One as the pinned package ships it, less XTS and XXX', () => {
    expect(ISO_4217_PUBLISHED).toBe('2024-06-25');
    expect(CURRENCY_CODES).toHaveLength(177);
    for (const code of CURRENCY_CODES) expect([code, ok('currency', code)]).toEqual([code, true]);
  });
});

describe('CsvValidator', () => {
  it.each(readdirSync(SAMPLE))('accepts the sample file %s (typo header, no final newline, UTF-8)', (name) => {
    const type = name.split('_')[0] as FileType;
    const result = validate(type, readFileSync(join(SAMPLE, name)));
    expect(result).toMatchObject({ rows: 2, errorCount: 0 });
    expect(result.copyColumns).toContain(type === 'clients' ? 'client_reference' : 'account_number');
  });

  it('accepts RFC 4180 quoting, CRLF, a BOM and columns in any order', () => {
    const text = '\uFEFFKEYWORD,amount,record_id,"transaction_reference",account_number\r\n' + 'DEPOSIT,"5.00",1,"ref-1",123\r\n"TAX",-1,2,ref_2,"0042"\r\n';
    const result = validate('transactions', bytes(text));
    expect(result).toMatchObject({ rows: 2, errorCount: 0, copyColumns: ['keyword', 'amount', 'record_id', 'transaction_reference', 'account_number'] });
    const names = validate(
      'clients',
      bytes(
        'record_id,first_name,last_name,client_reference,tax_free_allowance\n' +
          '1,"Maier, Jr.","O""Brien\nzweite Zeile",9e40659b-8b9f-4fc4-814b-5a7b5a23b64d,801\n2,Zoë,Ünal,f4a0cc2c-d0b4-4f14-b202-c8a5e45e90e7,0\n',
      ),
    );
    expect(names).toMatchObject({ rows: 2, errorCount: 0 });
  });

  it.each<[string, Buffer, Array<{ line: number; column?: string; reason: RegExp }>]>([
    ['an empty file', bytes(''), [{ line: 1, reason: /empty/ }]],
    ['a header only', bytes(`${T}\n`), [{ line: 2, reason: /header but no rows/ }]],
    ['a first line that is empty', bytes(`\n${T}\n1,1,a,1,X\n`), [{ line: 1, reason: /no header/ }]],
    [
      'an unknown column',
      bytes('record_id,accout_number,transaction_reference,amount,keyword,colour\n1,1,a,1,X,red\n'),
      [{ line: 1, column: 'column 6', reason: /^unknown column 6 \(6 characters\) for a transactions file$/ }],
    ],
    ['an unknown snake_case column', bytes(`${T},booking_date\n1,1,a,1,X,d\n`), [{ line: 1, column: 'booking_date', reason: /^unknown column "booking_date" for a transactions file$/ }]],
    ['a missing column', bytes('record_id,accout_number,amount,keyword\n1,1,1,X\n'), [{ line: 1, reason: /missing column transaction_reference/ }]],
    ['a duplicate column', bytes(`${T},account_number\n1,1,a,1,X,1\n`), [{ line: 1, column: 'account_number', reason: /appears twice/ }]],
    ['too few values', tx('1,1,a,1'), [{ line: 2, reason: /expected 5 values, found 4/ }]],
    ['too many values', tx('1,1,a,1,X,extra'), [{ line: 2, reason: /expected 5 values, found 6/ }]],
    ['an unterminated quote', tx('1,1,a,1,X', '2,1,"a,1,X'), [{ line: 3, column: 'transaction_reference', reason: /unterminated/ }]],
    ['a quote inside an unquoted value', tx('1,1,a"b,1,X'), [{ line: 2, column: 'transaction_reference', reason: /quote inside/ }]],
    ['text after a closing quote', tx('1,1,"a"b,1,X'), [{ line: 2, column: 'transaction_reference', reason: /after a closing quote/ }]],
    ['a NUL byte', tx('1,1,a\u0000,1,X'), [{ line: 2, column: 'transaction_reference', reason: /binary content/ }]],
    ['invalid UTF-8', Buffer.concat([tx('1,1,a,1,X', '2,1,b,1,'), Buffer.from([0xc3, 0x28]), bytes('\n')]), [{ line: 3, column: 'keyword', reason: /UTF-8/ }]],
    ['mixed line endings', bytes(`${T}\n1,1,a,1,X\r\n2,1,a,1,X\n`), [{ line: 2, reason: /mixed line endings/ }]],
    ['a bare carriage return', tx('1,1,a\rb,1,X'), [{ line: 2, column: 'transaction_reference', reason: /carriage return/ }]],
    ['an empty line between rows', tx('1,1,a,1,X', '', '2,1,a,1,X'), [{ line: 3, reason: /empty line/ }]],
    ['a duplicate record id', tx('7,1,a,1,X', '8,1,a,1,X', '7,1,a,1,X'), [{ line: 4, column: 'record_id', reason: /duplicate/ }]],
    ['a float amount', tx('1,1,a,1e5,X'), [{ line: 2, column: 'amount', reason: /amount/ }]],
    ['a three-decimal amount', tx('1,1,a,1.005,X'), [{ line: 2, column: 'amount', reason: /at most 2 decimals/ }]],
    ['an empty value', tx('1,,a,1,X'), [{ line: 2, column: 'accout_number', reason: /empty/ }]],
    ['a lower-case keyword', tx('1,1,a,1,deposit'), [{ line: 2, column: 'keyword', reason: /capital letters/ }]],
    ['a line break inside a quoted amount', tx('1,1,a,"1\n0",X'), [{ line: 2, column: 'amount', reason: /amount/ }]],
    ['a bare carriage return inside quotes', tx('1,1,"a\rb",1,X'), [{ line: 2, column: 'transaction_reference', reason: /^carriage return without line feed$/ }]],
    [
      'text after the closing quote of a header cell',
      bytes('record_id,accout_number,transaction_reference,amount,"keyword"x\n1,1,a,1,X\n'),
      [{ line: 1, column: 'keyword', reason: /after a closing quote/ }],
    ],
    [
      'a space after the closing quote of a header cell',
      bytes('record_id,"accout_number" ,transaction_reference,amount,keyword\n1,1,a,1,X\n'),
      [{ line: 1, column: 'accout_number', reason: /after a closing quote/ }],
    ],
    [
      'every error of a line: a repeated record id beside a bad value',
      tx('7,1,a,1,X', '7,1,a,bad,X'),
      [
        { line: 3, column: 'amount', reason: /amount/ },
        { line: 3, column: 'record_id', reason: /duplicate/ },
      ],
    ],
  ])('reports %s', (_, input, expected) => {
    const result = validate('transactions', input);
    expect(result.errors).toEqual(expected.map((e) => ({ ...e, reason: expect.stringMatching(e.reason) })));
  });

  describe('text values (a clients file)', () => {
    const C = 'record_id,first_name,last_name,client_reference,tax_free_allowance';
    const clients = (firstName: string | Buffer) => Buffer.concat([bytes(`${C}\n1,`), Buffer.from(firstName), bytes(',Maier,9e40659b-8b9f-4fc4-814b-5a7b5a23b64d,801\n')]);
    const errors = (input: Buffer) => validate('clients', input).errors;

    it('measures a quoted value without its doubled quotes: 200 bytes pass, 201 do not', () => {
      expect(errors(clients(`"${'x'.repeat(199)}"""`))).toEqual([]);
      expect(errors(clients(`"""${'x'.repeat(199)}"`))).toEqual([]);
      expect(errors(clients(`"${'x'.repeat(200)}"""`))).toEqual([{ line: 2, column: 'first_name', reason: 'text longer than 200 bytes' }]);
      expect(errors(clients('""""'))).toEqual([]);
    });

    it('refuses a bare carriage return inside quotes, and takes a quoted CRLF', () => {
      expect(errors(clients('"a\rb"'))).toEqual([{ line: 2, column: 'first_name', reason: 'carriage return without line feed' }]);
      expect(errors(clients('"a\r"'))).toEqual([{ line: 2, column: 'first_name', reason: 'carriage return without line feed' }]);
      expect(errors(clients('"a\r\nb"'))).toEqual([]);
    });

    it('refuses C1 control characters (U+0080 to U+009F), quoted or not, and takes the characters beside them', () => {
      for (const value of ['a\u0085b', '"a\u0080"', '\u009f']) {
        expect([value, errors(clients(value))]).toEqual([value, [{ line: 2, column: 'first_name', reason: expect.stringMatching(/^control character U\+00[89]/) }]]);
      }
      expect(errors(clients('\u0085'))).toEqual([expect.objectContaining({ reason: 'control character U+0085' })]);
      expect(errors(clients('£µ\u00a0\u00bfž'))).toEqual([]);
    });
  });

  it('refuses a file with a record longer than 1 MiB at that record, whether it comes in 64 KiB chunks or as one buffer', () => {
    const input = tx('1,1,a,1,X', `2,1,"${'a'.repeat(1.5 * (1 << 20))}",1,X`, '3,1,a,1,X\n');
    const whole = validate('transactions', input);
    expect(whole).toMatchObject({ fatal: true, errors: [{ line: 3, reason: expect.stringMatching(/longer than 1 MiB/) }], errorCount: 1 });
    const chunks = Array.from({ length: Math.ceil(input.length / 65536) }, (_, i) => i * 65536);
    expect(validate('transactions', input, chunks)).toEqual(whole);
  });

  it("never echoes a headerless file's first row: unknown cells are named by position and length", () => {
    const row = '1,Frida,Müller,9e40659b-8b9f-4fc4-814b-5a7b5a23b64d,801';
    const result = validate('clients', bytes(`${row}\n2,Fritz,Maier,f4a0cc2c-d0b4-4f14-b202-c8a5e45e90e7,0\n`));
    expect(result.errors.slice(0, 3)).toEqual([
      { line: 1, column: 'column 1', reason: 'unknown column 1 (1 character) for a clients file' },
      { line: 1, column: 'column 2', reason: 'unknown column 2 (5 characters) for a clients file' },
      { line: 1, column: 'column 3', reason: 'unknown column 3 (6 characters) for a clients file' },
    ]);
    const text = JSON.stringify(result.errors);
    for (const value of ['Frida', 'Müller', '9e40659b-8b9f-4fc4-814b-5a7b5a23b64d']) expect(text).not.toContain(value);
  });

  it('reports the first 100 errors and counts them all', () => {
    const rows = Array.from({ length: 250 }, (_, i) => `${i + 1},1,a,bad,X`);
    const result = validate('transactions', tx(...rows));
    expect(result.errors).toHaveLength(100);
    expect(result.errorCount).toBe(250);
  });

  it('stops at a record that never ends, instead of holding the file in memory', () => {
    const v = new CsvValidator('transactions');
    v.push(bytes(`${T}\n1,1,"`));
    for (let i = 0; i < 20; i++) v.push(Buffer.alloc(64 * 1024, 'a'));
    expect(v.fatal).toBe(true);
    expect(v.errors).toEqual([{ line: 2, reason: expect.stringMatching(/longer than 1 MiB/) }]);
  });

  it('reports at most maxErrors errors when told, still counting them all', () => {
    const v = new CsvValidator('transactions', { maxErrors: 2 });
    v.push(tx('1,1,a,bad,X', '2,1,a,bad,X', '3,1,a,bad,X\n'));
    v.end();
    expect(v.errors.map((e) => e.line)).toEqual([2, 3]);
    expect(v.errorCount).toBe(3);
  });

  it('settles the file once, however often end is called', () => {
    const v = new CsvValidator('transactions');
    v.end();
    v.end();
    expect(v.errors).toEqual([{ line: 1, reason: 'the file is empty' }]);
  });

  it('takes a file of only a byte-order mark as empty', () => {
    expect(validate('transactions', Buffer.from([0xef, 0xbb, 0xbf])).errors).toEqual([{ line: 1, reason: 'the file is empty' }]);
  });

  it('skips a byte-order mark only at the start of the file, not at the start of a later chunk', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const v = new CsvValidator('transactions');
    v.push(bytes(`${T}\n1,1,a,1,X\n`));
    v.push(Buffer.concat([bom, bytes('2,1,a,1,X\n')]));
    v.end();
    expect(v.errors).toEqual([{ line: 3, column: 'record_id', reason: expect.any(String) }]);
  });

  it("skips one byte-order mark, however the chunks split it: a second is the header's text, as read whole", () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const file = Buffer.concat([bom, bom, bytes(`${T}\nx,1,a,1,X\n`)]);
    const whole = validate('transactions', file).errors;
    expect(whole).toEqual([{ line: 2, column: '\uFEFFrecord_id', reason: expect.any(String) }]);
    for (const at of [1, 2, 3, 4, 6]) {
      const v = new CsvValidator('transactions');
      v.push(file.subarray(0, at));
      v.push(file.subarray(at));
      v.end();
      expect([at, v.errors]).toEqual([at, whole]);
    }
  });

  it('carries a record of up to 1 MiB across chunks, and stops at one byte more', () => {
    const v = new CsvValidator('transactions');
    v.push(bytes(`${T}\n`));
    v.push(Buffer.alloc(1 << 20, 'a'));
    expect(v.fatal).toBe(false);
    v.push(bytes('a'));
    expect(v.fatal).toBe(true);
    expect(v.errors).toEqual([{ line: 2, reason: expect.stringMatching(/longer than 1 MiB/) }]);
  });

  it('gives lenient loads the byte ranges of rejected records', () => {
    const v = new CsvValidator('transactions', { keepRejected: true });
    const input = tx('1,1,a,1,X', '2,1,a,oops,X', '3,1,a,1,X\n');
    v.push(input);
    expect(v.rejected).toEqual([{ start: input.indexOf('2,1'), end: input.indexOf('3,1'), line: 3, reason: expect.stringMatching(/amount/) }]);
    expect(v.regionEnd).toBe(input.length);
    expect(v.rows).toBe(2);
  });
});

/** Seeded by hand: a record's line counts the line breaks inside the quoted values of every record before it. */
describe('CsvValidator: line numbers after multi-line quoted values (examples)', () => {
  const C = 'record_id,first_name,last_name,client_reference,tax_free_allowance';
  const REF = '9e40659b-8b9f-4fc4-814b-5a7b5a23b64d';
  const client = (id: number, name: string, allowance = '801') => `${id},${name},Maier,${REF},${allowance}`;
  const file = (eol: string, ...rows: string[]) => Buffer.from([C, ...rows].join(eol) + eol);
  const lines = (result: { errors: unknown[] }) => (result.errors as Array<{ line: number }>).map((e) => e.line);
  /** The verdict with the file cut once at every offset, as the object store's chunks could arrive. */
  const everyCut = (bytes: Buffer) => Array.from({ length: bytes.length - 1 }, (_, i) => validate('clients', bytes, [i + 1]));

  it.each<[string, Buffer, number[]]>([
    ['after a value with two line breaks', file('\n', client(1, '"Anna\nMaria\nLuise"'), client(2, 'Bob'), client(3, 'Carl', 'x')), [6]],
    ['on a bad record that itself spans lines, and after it', file('\n', client(1, 'Anna'), client(2, '"Bob\nBobby"', 'x'), client(3, 'Carl', 'x')), [3, 5]],
    ['after a quoted CRLF in a CRLF file', file('\r\n', client(1, '"Anna\r\nMaria"'), client(2, 'Bob', 'x')), [4]],
    ['after escaped quotes and a line break in one value', file('\n', client(1, '"Anna ""Nan""\nMaria"'), client(2, 'Bob', 'x')), [4]],
    ['after many clean rows that follow a multi-line value', file('\n', client(1, '"A\nB\nC\nD"'), ...Array.from({ length: 9 }, (_, i) => client(i + 2, 'Bob')), client(11, 'Carl', 'x')), [15]],
    ['of a repeated record id after multi-line values', file('\n', client(1, '"A\nB"'), client(2, '"C\nD"'), client(1, 'Carl')), [6]],
  ])('reports the line where the record starts %s, however the file is chunked', (_name, bytes, expected) => {
    const whole = validate('clients', bytes);
    expect(lines(whole)).toEqual(expected);
    expect(everyCut(bytes).filter((r) => JSON.stringify(r) !== JSON.stringify(whole))).toEqual([]);
  });

  it('gives a lenient load the same lines for the rows it rejects', () => {
    const bytes = file('\n', client(1, '"Anna\nMaria\nLuise"'), client(2, 'Bob', 'x'), client(3, '"Carl\nC."'), client(4, 'Dora', 'x'));
    expect(lenientCut('clients', bytes).rejected.map((r) => r.line)).toEqual([5, 8]);
    for (let cut = 1; cut < bytes.length; cut++) expect([cut, lenientCut('clients', bytes, [cut]).rejected.map((r) => r.line)]).toEqual([cut, [5, 8]]);
  });

  /** What the validator gives COPY, the file cut once at `cut`, decoded: each row's line and values as printed. */
  const copyData = (bytes: Buffer, cut: number, options: { firstLine?: number; keepRejected?: boolean } = {}) => {
    const v = new CsvValidator('clients', { ...options, copyData: true });
    const data = [];
    for (const part of [bytes.subarray(0, cut), bytes.subarray(cut)]) {
      v.push(part);
      data.push(...v.takeCopyData());
    }
    v.end();
    return decodeCopy(Buffer.concat([...data, ...v.takeCopyData()]), ['record_id', 'text', 'text', 'uuid', 'money']);
  };
  const row = (line: number, id: number, name: string, allowance = '801.00') => [String(line), String(id), name, 'Maier', REF, allowance];

  it('gives COPY each loaded row after the line it starts on: after multi-line values, left-out records and empty lines, however chunked', () => {
    const bytes = file('\n', client(1, '"Anna\nMaria\nLuise"'), client(2, 'Bob', 'x'), client(3, '"Carl\nC."'), '', client(4, 'Dora'), client(5, 'Eve'));
    const expected = [row(2, 1, 'Anna\nMaria\nLuise'), row(6, 3, 'Carl\nC.'), row(9, 4, 'Dora'), row(10, 5, 'Eve')];
    for (let cut = 1; cut < bytes.length; cut++) expect([cut, copyData(bytes, cut, { keepRejected: true })]).toEqual([cut, expected]);
    // A chunk's rows count from the file line its range starts on; a BOM and a last record without a line break stay.
    const chunk = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${C}\n${client(7, '"G\nH"')}\n${client(8, 'Ida')}`)]);
    expect(copyData(chunk, 3, { firstLine: 40 })).toEqual([row(40, 7, 'G\nH'), row(42, 8, 'Ida')]);
  });

  it('gives COPY the values themselves: unquoted, unescaped, as numbers and UUIDs, in CRLF files too', () => {
    const upper = REF.toUpperCase().replace('9E40659B', '9E40659C');
    const bytes = file(
      '\r\n',
      `1,"Anna ""Nan""\r\nMaria","Maier",${REF},"-0.5"`,
      `2147483647,€ 𝄞,Maier,${upper},123456789012345.99`,
      `10,"a,b",Maier,${REF},-007`,
      `11,x,Maier,${REF},-0.00`,
      `12,x,Maier,${REF},10000`,
      `13,x,Maier,${REF},0.07`,
    );
    for (let cut = 1; cut < bytes.length; cut += 7)
      expect([cut, copyData(bytes, cut)]).toEqual([
        cut,
        [
          row(2, 1, 'Anna "Nan"\r\nMaria', '-0.50'),
          [...row(4, 2147483647, '€ 𝄞', '123456789012345.99').slice(0, 4), upper.toLowerCase(), '123456789012345.99'],
          row(5, 10, 'a,b', '-7.00'),
          row(6, 11, 'x', '0.00'),
          row(7, 12, 'x', '10000.00'),
          row(8, 13, 'x', '0.07'),
        ],
      ]);
  });

  it('leaves an invalid record out of the COPY data of a strict load too', () => {
    const bytes = file('\n', client(1, 'Anna'), client(2, 'Bob', 'x'), client(3, 'Carl'));
    expect(copyData(bytes, bytes.length)).toEqual([row(2, 1, 'Anna'), row(4, 3, 'Carl')]);
  });
});
