import type { Batch, FileDetail, RejectedKey } from '@dataharvest/events/batch';
import { anyRefused, fileReports, reportFor } from '../src/cli/file-reports';

const file = (type: string, detail: Partial<FileDetail>): FileDetail => ({
  status: 'PERSISTED',
  key: `incoming/C/${type}_20200130.csv`,
  rows: 2,
  bytes: 10,
  errors: [],
  at: '2020-01-30T00:00:00.000Z',
  ...detail,
});
const batch = {
  client: 'C',
  batch_date: '20200130',
  stage: 'RECEIVING',
  generation: 1,
  files: {
    accounts: file('accounts', { status: 'REJECTED', rows: 0, reason: '2 problems found; nothing loaded', error_count: 2, errors: [{ line: 2, column: 'cash_balance', reason: 'not a number' }] }),
    clients: file('clients', {}),
    transactions: file('transactions', { rejected_rows: 1, error_count: 1, errors: [{ line: 3, reason: 'amount: not a number' }] }),
  },
  transformers: {},
} as unknown as Batch;
const rejectedKey = (key: string, fileName: string): RejectedKey => ({
  pk: 'CLIENT#C',
  sk: `REJECTED#${fileName}`,
  client: 'C',
  key,
  file_name: fileName,
  stage: 'REJECTED',
  reason: 'unknown file type',
  at: '',
});

describe('the refused and leniently loaded files `dataharvest reports` lists', () => {
  const entries = fileReports([batch], [rejectedKey('incoming/C/notes_20200130.csv', 'notes_20200130.csv'), rejectedKey('other/notes_20200131.csv', 'notes_20200131.csv')]);

  it('names where each refused upload and its report are, and a lenient load by its archived copy', () => {
    expect(entries.map((e) => [e.file_name, e.status, e.copy, e.report])).toEqual([
      ['accounts_20200130.csv', 'REJECTED', 'quarantine/C/accounts_20200130.csv', 'errors/C/accounts_20200130.csv.json'],
      ['transactions_20200130.csv', 'PERSISTED', 'archive/C/transactions_20200130.csv', null],
      ['notes_20200130.csv', 'REJECTED', 'quarantine/C/notes_20200130.csv', 'errors/C/notes_20200130.csv.json'],
      // Outside incoming/ persistence may not move it: the upload stays where it is.
      ['notes_20200131.csv', 'REJECTED', 'other/notes_20200131.csv', 'errors/other/notes_20200131.csv.json'],
    ]);
    expect(entries[0]).toMatchObject({ batch_date: '20200130', error_count: 2, errors: [{ line: 2, column: 'cash_balance', reason: 'not a number' }] });
    expect(entries[1]).toMatchObject({ rows: 2, rejected_rows: 1, error_count: 1 });
    expect(anyRefused(entries)).toBe(true);
    expect(anyRefused(entries.filter((e) => e.status === 'PERSISTED'))).toBe(false);
  });

  it('keeps to one batch date with --date, refused keys by the date in their name', () => {
    expect(fileReports([batch], [rejectedKey('incoming/C/notes_20200131.csv', 'notes_20200131.csv')], '20200131').map((e) => e.file_name)).toEqual(['notes_20200131.csv']);
  });

  it('finds the report --show means from a file name, an entry key or any bucket key', () => {
    expect(reportFor('accounts_20200130.csv', 'C', entries)).toBe('errors/C/accounts_20200130.csv.json');
    expect(reportFor('quarantine/C/notes_20200130.csv', 'C', entries)).toBe('errors/C/notes_20200130.csv.json');
    expect(reportFor('transactions_20200130.csv', 'C', entries)).toBeNull();
    // Not (or no longer) refused in the metastore: a corrected file's earlier report is still in the bucket.
    expect(reportFor('portfolios_20200129.csv', 'C', entries)).toBe('errors/C/portfolios_20200129.csv.json');
    expect(reportFor('quarantine/C/portfolios_20200129.csv', 'C', entries)).toBe('errors/C/portfolios_20200129.csv.json');
    expect(reportFor('errors/C/x.json', 'C', entries)).toBe('errors/C/x.json');
  });
});
