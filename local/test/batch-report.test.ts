import type { Batch } from '@dataharvest/events/batch';
import { batchReport, exitCode } from '../src/cli/batch-report';
import { summaryLines } from '../src/cli/progress';

const file = (rows: number) => ({ status: 'PERSISTED' as const, key: 'k', etag: 'e', rows, errors: [], at: '2020-01-30T00:00:00.000Z' });
const complete = {
  client: 'C',
  batch_date: '20200130',
  stage: 'COMPLETE',
  generation: 1,
  transformers: {},
  files: { accounts: file(2), clients: file(2), portfolios: file(2), transactions: file(2) },
} as unknown as Batch;

describe('batchReport and exitCode', () => {
  it('exits 0 only for a COMPLETE batch with every file persisted and nothing given up', () => {
    expect(exitCode(batchReport('C', complete, [], []))).toBe(0);
    expect(exitCode(batchReport('C', { ...complete, stage: 'FAILED' } as Batch, [], []))).toBe(1);
    expect(
      exitCode(batchReport('C', complete, [{ pk: 'CLIENT#C', sk: 'REJECTED#x.csv', stage: 'REJECTED', client: 'C', key: 'incoming/C/x.csv', file_name: 'x.csv', reason: 'bad key', at: '' }], [])),
    ).toBe(1);
  });

  it('lists records whose retries ran out, and fails the run for them', () => {
    const report = batchReport('C', complete, [], [], [{ function: 'dataharvest-tax-test-transform', reason: 'connection refused' }]);
    expect(report.failures).toEqual([{ function: 'dataharvest-tax-test-transform', reason: 'connection refused' }]);
    expect(exitCode(report)).toBe(1);
    expect(batchReport('C', complete, [], [])).not.toHaveProperty('failures');
  });
});

describe('the human summary of a run', () => {
  const event = (i: number) => ({ portfolio_reference: `P${String(i).padStart(5, '0')}`, version: 1, deposits_total: '1.00', transaction_count: 1, net_amount: '1.00', taxes_paid: '0.00' });

  it('shows at most 20 events, then how many more --json lists', () => {
    const report = batchReport('C', complete, [], Array.from({ length: 10_050 }, (_, i) => event(i)) as never);
    const lines = summaryLines(report);
    expect(lines.filter((l) => l.startsWith('  event '))).toHaveLength(20);
    expect(lines.at(-1)).toBe('  … and 10030 more events (use --json for all)');
    expect(summaryLines(batchReport('C', complete, [], [event(1)] as never)).at(-1)).toMatch(/^ {2}event P00001 v1/);
  });

  it("shows at most 10 of a file's errors, then how many it has in all", () => {
    const errors = Array.from({ length: 100 }, (_, i) => ({ line: i + 2, reason: 'bad amount' }));
    const rejected = { ...complete, files: { ...complete.files, transactions: { ...file(0), status: 'REJECTED', error_count: 250, errors } } } as unknown as Batch;
    const lines = summaryLines(batchReport('C', rejected, [], []));
    expect(lines.filter((l) => l.includes('bad amount'))).toHaveLength(10);
    expect(lines).toContain('      … and 240 more errors (use --json for all)');
  });
});
