import type { Batch } from '@dataharvest/events/batch';
import type { FailureRecord } from '@dataharvest/events/failure';
import { unhealthy } from '../src/cli/batch-report';
import type { QueuedFailure } from '../src/cli/failure-queues';
import { resolution } from '../src/cli/failure-resolution';
import { clientReport } from '../src/cli/status-clients';
import { statusReport } from '../src/cli/status';

const GAVE_UP_AT = '2026-01-01T00:00:10.000Z';
const upload: QueuedFailure = {
  id: 'm-1',
  queueUrl: 'q',
  receiptHandle: 'r',
  service: 'persistence',
  condition: 'RetriesExhausted',
  client: 'ACME',
  batchDate: '20200130',
  reason: 'Error: database down',
  attempts: 3,
  firstSeen: GAVE_UP_AT,
  lastSeen: GAVE_UP_AT,
  objectKey: 'incoming/ACME/accounts_20200130.csv',
  eTag: 'e1',
};
const file = (status: string, etag: string, at: string) => ({ status, key: upload.objectKey, etag, rows: 2, bytes: 10, errors: [], at });
const batch = (stage: string, generation: number, accounts?: ReturnType<typeof file>) =>
  ({ client: 'ACME', batch_date: '20200130', stage, generation, files: accounts ? { accounts } : {}, transformers: {} }) as unknown as Batch;
const failure = { client: 'ACME', batch_date: '20200130', function: 'deposit', generation: 1 } as FailureRecord;
const stream: QueuedFailure = { ...upload, id: 'm-2', service: 'deposit', objectKey: undefined, eTag: undefined, generation: 1, failure };

describe('whether an on-failure message is resolved: its batch moved on since', () => {
  it('leaves an upload still in incoming/ to redrive', () => {
    expect(resolution(upload, batch('RECEIVING', 0, file('PERSISTED', 'e2', '2026-01-01T00:01:00.000Z')), true)).toBeUndefined();
  });

  it('resolves an upload gone from incoming/ once its file settled after it gave up, or as another upload', () => {
    expect(resolution(upload, batch('COMPLETE', 1, file('PERSISTED', 'e1', '2026-01-01T00:01:00.000Z')), false)).toBe('accounts_20200130.csv PERSISTED since, at 2026-01-01T00:01:00.000Z');
    expect(resolution(upload, batch('REJECTED', 0, file('REJECTED', 'e2', '2026-01-01T00:00:05.000Z')), false)).toMatch(/^accounts_20200130\.csv REJECTED since/);
  });

  it('does not resolve an upload gone from incoming/ whose file never settled since', () => {
    expect(resolution(upload, undefined, false)).toBeUndefined();
    expect(resolution(upload, batch('RECEIVING', 0, file('LOADING', 'e1', '2026-01-01T00:01:00.000Z')), false)).toBeUndefined();
    expect(resolution(upload, batch('COMPLETE', 1, file('PERSISTED', 'e1', '2026-01-01T00:00:01.000Z')), false)).toBeUndefined();
  });

  it('resolves a stream failure once its batch is COMPLETE at a later generation, and only then', () => {
    expect(resolution(stream, batch('COMPLETE', 2), undefined)).toBe('batch COMPLETE at generation 2');
    expect(resolution(stream, batch('COMPLETE', 1), undefined)).toBeUndefined();
    expect(resolution(stream, batch('RELATED', 2), undefined)).toBeUndefined();
    expect(resolution({ ...stream, failure: undefined }, batch('COMPLETE', 2), undefined)).toBeUndefined();
  });
});

describe('failures in status', () => {
  const placed = (resolved?: string) => ({
    client: 'ACME',
    batch_date: '20200130',
    report: { function: 'persistence', reason: 'Error: database down', object_key: upload.objectKey, ...(resolved ? { resolved } : {}) },
  });

  it('shows a batch known only from an upload that gave up, as FAILED', () => {
    const [report] = statusReport([], [], [], 0, [placed()]).batches;
    expect(report).toMatchObject({ client: 'ACME', batch_date: '20200130', stage: 'FAILED' });
    expect(unhealthy(report!)).toBe(true);
  });

  it('does not hold a batch with a resolved failure', () => {
    const complete = { ...batch('COMPLETE', 1, file('PERSISTED', 'e1', GAVE_UP_AT)), created_at: GAVE_UP_AT } as Batch;
    const [report] = statusReport([complete], [], [], 0, [placed('accounts_20200130.csv PERSISTED since')]).batches;
    expect(report?.stage).toBe('COMPLETE');
    expect(unhealthy(report!)).toBe(false);
  });
});

describe('a client in status --clients', () => {
  it('counts refused files and what waits in the on-failure queues, today by when it gave up', () => {
    const now = new Date('2026-01-01T12:00:00.000Z');
    const report = clientReport({ client: 'ACME', failures: 2, failures_today: 1, day: '2026-01-01' }, now, [{ lastSeen: GAVE_UP_AT }, { lastSeen: '2025-12-31T23:00:00.000Z' }]);
    expect(report).toMatchObject({ failures: 4, refused_files: 2, failures_waiting: 2, today: { failures: 2 } });
  });
});
