import { createHash } from 'node:crypto';
import { awaitingControl, ControlOwed, controlDate, parseControl, parseControlKey, reconcile } from '../src/control';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const LINES = ['accounts,2,1500.50,A', 'clients,2,0,B', 'portfolios,2,0.00,C', 'transactions,3,-40.1,D'].map((l) => l.replace(/,([A-D])$/, (_, x: string) => `,${sha(x)}`));
const file = (lines: string[], header = 'type,rows,money_sum,sha256') => [header, ...lines].join('\r\n');

describe('control file names', () => {
  it('takes control_<YYYYMMDD>.csv of a valid client, and nothing else', () => {
    expect(parseControlKey('incoming/ACME/control_20240315.csv')).toEqual({ client: 'ACME', batchDate: '20240315', fileName: 'control_20240315.csv' });
    for (const key of [
      'incoming/ACME/control_20240230.csv',
      'incoming/ACME/control_21010101.csv',
      'incoming/ACME/control_20240315.csv.gz',
      'incoming/a b/control_20240315.csv',
      'incoming/ACME/accounts_20240315.csv',
      'other/ACME/control_20240315.csv',
    ])
      expect(parseControlKey(key)).toBeUndefined();
    expect(controlDate('control_20240229.csv')).toBe('20240229');
  });
});

describe('parseControl', () => {
  it('reads one line per file type, hashes lower-cased', () => {
    const parsed = parseControl(`${file(LINES.map((l) => l.toUpperCase().replace(/^[A-Z]+/, (t) => t.toLowerCase())))}\n`);
    expect(parsed).toEqual({
      ok: true,
      lines: {
        accounts: { rows: 2, money_sum: '1500.50', sha256: sha('A') },
        clients: { rows: 2, money_sum: '0', sha256: sha('B') },
        portfolios: { rows: 2, money_sum: '0.00', sha256: sha('C') },
        transactions: { rows: 3, money_sum: '-40.1', sha256: sha('D') },
      },
    });
  });

  it('refuses a wrong header, a missing or repeated type and malformed figures, by line and column', () => {
    expect(parseControl(file(LINES, 'type,rows,sum,sha256'))).toEqual({ ok: false, errors: [{ line: 1, reason: 'the header must be type,rows,money_sum,sha256' }] });
    expect(parseControl(file(LINES.slice(0, 3)))).toEqual({ ok: false, errors: [{ line: 5, reason: 'no line for transactions' }] });
    const bad = parseControl(file([`accounts,1,1.234,${sha('x')}`, 'clients,1,0,abc', `portfolios,1.5,0,${sha('x')}`, 'transactions,1,0,x,y', `trades,1,0,${sha('x')}`, LINES[3]!, LINES[3]!]));
    expect(bad).toEqual({
      ok: false,
      errors: [
        { line: 2, column: 'money_sum', reason: 'not a decimal with at most two places' },
        { line: 3, column: 'sha256', reason: 'not 64 hexadecimal digits' },
        { line: 4, column: 'rows', reason: 'not a whole number of rows' },
        { line: 5, reason: '5 values, expected 4' },
        { line: 6, column: 'type', reason: 'unknown file type: expected one of accounts, clients, portfolios, transactions' },
        { line: 8, column: 'type', reason: 'a second line for transactions' },
      ],
    });
  });
});

describe('reconcile', () => {
  const line = { rows: 3, money_sum: '-40.10', sha256: sha('D') };

  it('matches equal figures, money compared exactly in cents however it is written', () => {
    expect(reconcile(line, { rows: 3, money_sum: '-40.1', sha256: sha('D').toUpperCase() })).toEqual({ outcome: 'MATCH' });
    expect(reconcile({ ...line, money_sum: '12345678901234567890.01' }, { rows: 3, money_sum: '12345678901234567890.01', sha256: sha('D') })).toEqual({ outcome: 'MATCH' });
  });

  it('names the expected and found figure of each difference', () => {
    expect(reconcile(line, { rows: 2, money_sum: '-40.10', sha256: sha('D') })).toEqual({ outcome: 'MISMATCH', reason: 'does not match its control totals: rows expected 3, found 2' });
    expect(reconcile(line, { rows: 3, money_sum: '-40.11', sha256: sha('E') })).toEqual({
      outcome: 'MISMATCH',
      reason: `does not match its control totals: money sum expected -40.10, found -40.11; SHA-256 expected ${sha('D')}, found ${sha('E')}`,
    });
    expect(reconcile({ ...line, money_sum: '0.5' }, { rows: 3, money_sum: '-0.50', sha256: sha('D') })).toMatchObject({ reason: expect.stringContaining('money sum expected 0.50, found -0.50') });
  });

  it("counts a lenient load's rejected rows as the file's, and does not compare their money", () => {
    expect(reconcile(line, { rows: 2, rejected_rows: 1, money_sum: '-10.00', sha256: sha('D') })).toEqual({ outcome: 'MATCH', note: 'money sum not compared: 1 rejected row(s) not loaded' });
  });
});

describe('awaitingControl', () => {
  const matched = (etag: string) => ({ control: { control: etag, outcome: 'MATCH' as const, at: '' } });
  const files = (etag: string) => ({ accounts: matched(etag), clients: matched(etag), portfolios: matched(etag), transactions: matched(etag) });
  const control = (etag: string, status: 'RECEIVED' | 'REJECTED' = 'RECEIVED') => ({ status, key: 'k', etag, at: '', errors: [] });

  it('lets a batch without a control file relate unless its client owes one', () => {
    expect(awaitingControl({ batch_date: '20240315', files: {} }, false)).toBeUndefined();
    expect(awaitingControl({ batch_date: '20240315', files: {} }, true)).toBe('control_20240315.csv is owed and has not arrived');
    expect(awaitingControl({ batch_date: '20240315', files: {}, control: control('c', 'REJECTED') }, true)).toBe('control_20240315.csv was refused: a valid control file is owed');
  });

  it('waits until every file matches the current control file', () => {
    expect(awaitingControl({ batch_date: '20240315', files: files('c'), control: control('c') }, true)).toBeUndefined();
    expect(awaitingControl({ batch_date: '20240315', files: { ...files('c'), clients: matched('old') }, control: control('c') }, false)).toBe(
      'files not yet reconciled with control_20240315.csv: clients',
    );
  });
});

describe('ControlOwed', () => {
  it('reads the clients whose delivery schedule owes a control file, by default or of their own', () => {
    const owed = (config: unknown) => [...ControlOwed.parse(config)].sort();
    expect(owed({ clients: {} })).toEqual([]);
    expect(owed({ defaults: { calendar: 'DE' }, clients: { 'bank-de': {}, 'bank-at': { control_file: true } } })).toEqual(['bank-at']);
    expect(owed({ defaults: { control_file: true }, clients: { a: {}, b: { control_file: false } } })).toEqual(['a']);
  });
});
