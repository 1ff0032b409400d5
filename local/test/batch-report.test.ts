import type { Batch } from '@dataharvest/events/batch';
import { batchReport, exitCode } from '../src/cli/batch-report';

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
