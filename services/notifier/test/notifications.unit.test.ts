import { marshall } from '@aws-sdk/util-dynamodb';
import type { Batch, FileDetail } from '@dataharvest/events/batch';
import { Notification } from '@dataharvest/events/notification';
import { type ItemChange, notificationsOf } from '../src/notifications';

const file = (status: FileDetail['status'], at: string, extra: Partial<FileDetail> = {}): FileDetail => ({
  status,
  key: `incoming/ACME/accounts_20240102.csv`,
  rows: 3,
  bytes: 10,
  errors: [],
  at,
  ...extra,
});

const batch = (patch: Partial<Batch> = {}): Batch => ({
  pk: 'CLIENT#ACME',
  sk: 'BATCH#20240102',
  client: 'ACME',
  batch_date: '20240102',
  stage: 'RECEIVING',
  generation: 0,
  account_persisted: false,
  client_persisted: false,
  portfolio_persisted: false,
  transaction_persisted: false,
  relation_established: false,
  files: {},
  transformers: {},
  created_at: '2024-01-02T00:00:00Z',
  updated_at: '2024-01-02T00:00:01Z',
  ...patch,
});

const change = (next: object, previous?: object, eventName: ItemChange['eventName'] = previous ? 'MODIFY' : 'INSERT'): ItemChange => ({
  eventName,
  dynamodb: { Keys: {}, NewImage: marshall(next, { removeUndefinedValues: true }), OldImage: previous && marshall(previous, { removeUndefinedValues: true }) },
});

describe('notificationsOf', () => {
  it('announces a file that settles, once: the same change replayed gives the same id, an unchanged file none', () => {
    const loading = batch({ files: { accounts: file('LOADING', 't1') } });
    const loaded = batch({ files: { accounts: file('PERSISTED', 't2') }, account_persisted: true });
    const [n, ...more] = notificationsOf(change(loaded, loading));
    expect(more).toEqual([]);
    expect(n).toMatchObject({ kind: 'file', status: 'SUCCESS', client: 'ACME', batch_date: '20240102', file: 'accounts_20240102.csv', msg: '3 rows loaded' });
    expect(notificationsOf(change(loaded, loading))[0]!.notification_id).toBe(n!.notification_id);
    expect(notificationsOf(change({ ...loaded, updated_at: 'later' }, loaded))).toEqual([]);
    expect(notificationsOf(change(loading))).toEqual([]);
  });

  it('announces a re-upload of the same file as new, and a rejection without the rows’ values', () => {
    const first = batch({ files: { accounts: file('PERSISTED', 't1') } });
    const rejected = batch({ files: { accounts: file('REJECTED', 't2', { error_count: 2, errors: [{ line: 4, column: 'amount', reason: 'not a number: 12x' }] }) } });
    const [n] = notificationsOf(change(rejected, first));
    expect(n).toMatchObject({ status: 'FAILURE', msg: 'rejected: 2 problems; first at line 4, column amount' });
    expect(JSON.stringify(n)).not.toContain('12x');
    const again = batch({ files: { accounts: file('REJECTED', 't3', { errors: [] }) } });
    expect(notificationsOf(change(again, rejected))[0]!.notification_id).not.toBe(n!.notification_id);
    // A header column without a shown name is reported as `column 2` already.
    const header = batch({ files: { accounts: file('REJECTED', 't4', { error_count: 1, errors: [{ line: 1, column: 'column 2', reason: 'unknown column 2' }] }) } });
    expect(notificationsOf(change(header, again))[0]).toMatchObject({ msg: 'rejected: 1 problem; first at line 1, column 2' });
  });

  it('announces each batch outcome once per arrival, with no transformer reason', () => {
    const transformed = batch({ stage: 'TRANSFORMED', generation: 1 });
    const complete = batch({ stage: 'COMPLETE', generation: 1, events_published: 2, updated_at: 'u2' });
    expect(notificationsOf(change(complete, transformed))).toEqual([
      expect.objectContaining({ kind: 'batch', status: 'SUCCESS', stage: 'COMPLETE', generation: 1, msg: 'batch complete: 2 events published' }),
    ]);
    expect(notificationsOf(change({ ...complete, updated_at: 'u3' }, complete))).toEqual([]);
    const failed = batch({ stage: 'FAILED', generation: 1, transformers: { deposit: { status: 'FAILED', generation: 1, at: 't', reason: 'value 99999 out of range' } } });
    const [f] = notificationsOf(change(failed, transformed));
    expect(f).toMatchObject({ status: 'FAILURE', msg: 'batch failed: deposit FAILED' });
    expect(JSON.stringify(f)).not.toContain('99999');
    // Refused again after a good file moved it back to RECEIVING: a new arrival, a new id.
    const rejected = batch({ stage: 'REJECTED', files: { accounts: file('REJECTED', 't1') }, updated_at: 'r1' });
    const rejectedAgain = { ...rejected, files: { accounts: file('REJECTED', 't5') }, updated_at: 'r2' };
    const first = notificationsOf(change(rejected, batch())).find((x) => x.kind === 'batch');
    const second = notificationsOf(change(rejectedAgain, batch({ updated_at: 'r1b' }))).find((x) => x.kind === 'batch');
    expect(first).toMatchObject({ msg: 'batch rejected: accounts refused' });
    expect(second!.notification_id).not.toBe(first!.notification_id);
  });

  it('announces a batch the delivery check records LATE once, naming the missing files, and not again as they arrive', () => {
    const late = { cut_off: '2024-01-02T16:00:00.000Z', missing: ['transactions_20240102.csv'], at: '2024-01-02T16:00:00.000Z' };
    const [told, ...more] = notificationsOf(change(batch({ stage: 'LATE', late }), batch()));
    expect(more).toEqual([]);
    expect(told).toMatchObject({ kind: 'delivery', status: 'FAILURE', client: 'ACME', batch_date: '20240102' });
    expect(told!.msg).toBe('late: transactions_20240102.csv missing at the cut-off 2024-01-02T16:00:00.000Z');
    expect(notificationsOf(change(batch({ stage: 'LATE', late }), batch()))[0]!.notification_id).toBe(told!.notification_id);
    expect(notificationsOf(change(batch({ stage: 'LATE', late, updated_at: 'later' }), batch({ stage: 'LATE', late })))).toEqual([]);
  });

  it('announces a refused key once per upload, and ignores the registry and removals', () => {
    const refused = { pk: 'CLIENT#ACME', sk: 'REJECTED#junk.csv', client: 'ACME', key: 'incoming/ACME/junk.csv', file_name: 'junk.csv', stage: 'REJECTED', reason: 'unknown file type', at: 'a1' };
    const [n] = notificationsOf(change(refused));
    expect(n).toMatchObject({ kind: 'file', status: 'FAILURE', client: 'ACME', file: 'junk.csv', msg: 'object key refused: unknown file type' });
    expect(notificationsOf(change(refused, refused))).toEqual([]);
    expect(notificationsOf(change({ ...refused, at: 'a2' }, refused))[0]!.notification_id).not.toBe(n!.notification_id);
    expect(notificationsOf(change({ pk: 'REGISTRY', sk: 'TRANSFORMER#tax', name: 'tax' }))).toEqual([]);
    expect(notificationsOf(change(batch({ stage: 'COMPLETE' }), batch(), 'REMOVE'))).toEqual([]);
  });

  it('makes each notification exactly the topic’s contract, which subscribers parse', () => {
    const made = [
      ...notificationsOf(change(batch({ files: { accounts: file('PERSISTED', 't1') } }), batch())),
      ...notificationsOf(change(batch({ files: { accounts: file('REJECTED', 't2', { errors: [{ line: 2, reason: 'bad' }] }) } }), batch())),
      ...notificationsOf(change(batch({ stage: 'COMPLETE', generation: 1, events_published: 2 }), batch({ stage: 'TRANSFORMED', generation: 1 }))),
      ...notificationsOf(change({ pk: 'CLIENT#ACME', sk: 'REJECTED#junk.csv', client: 'ACME', key: 'incoming/ACME/junk.csv', file_name: 'junk.csv', stage: 'REJECTED', reason: 'unknown', at: 'a1' })),
    ];
    expect(made.map((n) => n.kind)).toEqual(['file', 'file', 'batch', 'file']);
    // Strict: a field the contract does not name (an `id` of the notifier's own, say) fails here, not in a subscriber.
    for (const n of made) expect(Notification.strict().parse(JSON.parse(JSON.stringify(n)))).toEqual(n);
  });
});
