import { FILE_TYPES, type FileDetail } from '@dataharvest/events/batch';
import { startServices, type Services } from '../../local/src/cloud/emulators/services';
import { testClients } from '../../test/support/clients';
import { createMetastoreStack } from '../../test/support/metastore-stack';
import { type ClientTracking, createClientTracking } from '../src/client-tracking';
import { createMetastore, type Metastore } from '../src/metastore';

const detail = (status: FileDetail['status'], etag = 'e1'): FileDetail => ({
  status,
  key: 'k',
  etag,
  rows: 2,
  bytes: 10,
  errors: [],
  error_count: status === 'REJECTED' ? 3 : 0,
  at: new Date().toISOString(),
});
const state = (generation: number) => ({ status: 'DONE' as const, generation, at: new Date().toISOString() });
let clientNo = 0;
const newClient = () => `TRACKED${++clientNo}`;

describe('client tracking through the metastore client, against DynamoDB Local', () => {
  let services: Services;
  let m: Metastore;
  let tracking: ClientTracking;
  let clock = new Date('2026-03-01T10:00:00Z');
  const item = async (client: string) => (await tracking.list()).find((i) => i.client === client);

  /** A batch through every metastore transition up to COMPLETE (no transformers registered: relations lead to TRANSFORMED). */
  async function complete(client: string, date: string) {
    let batch = await m.recordFile(client, date, 'accounts', detail('PERSISTED'));
    for (const t of FILE_TYPES.slice(1)) batch = await m.recordFile(client, date, t, detail('PERSISTED'));
    batch = (await m.establishRelations(batch, state(batch.generation), {}))!;
    return m.markComplete(batch, 2);
  }

  beforeAll(async () => {
    services = await startServices();
    const stack = await createMetastoreStack(services);
    const { dynamo } = testClients(services);
    tracking = createClientTracking(dynamo, `dataharvest-client-tracking-${stack.stage}`, () => clock);
    m = createMetastore(dynamo, `dataharvest-metastore-${stack.stage}`, tracking);
  });
  afterAll(() => services?.stop());

  it('counts a batch once: in flight until COMPLETE; a repeated file, refusal or completion changes nothing', async () => {
    const client = newClient();
    await m.recordFile(client, '20200130', 'accounts', detail('PERSISTED'));
    await m.recordFile(client, '20200130', 'accounts', detail('PERSISTED')); // the same bytes again
    expect(await item(client)).toMatchObject({ in_flight: new Set(['20200130']), files: 1, rows: 2, bytes: 10, files_today: 1, day: '2026-03-01' });
    const batch = await complete(client, '20200130');
    expect(batch?.stage).toBe('COMPLETE');
    expect(await m.markComplete(batch!, 2)).toBeUndefined(); // a replayed completion
    const done = await item(client);
    expect(done).toMatchObject({ files: 4, rows: 8, bytes: 40, last_complete_batch: '20200130' });
    expect(done?.in_flight ?? new Set()).toEqual(new Set());
    // A bad re-upload of a complete batch, its refusal retried: one failure, and no values from the file.
    await m.recordFile(client, '20200130', 'clients', detail('REJECTED', 'bad'));
    await m.recordFile(client, '20200130', 'clients', detail('REJECTED', 'bad'));
    expect(await item(client)).toMatchObject({ failures: 1, last_error: { batch_date: '20200130', what: 'clients file refused: 3 problem(s)' } });
    expect((await item(client))?.in_flight ?? new Set()).toEqual(new Set());
  });

  it('keeps the latest date as the last complete batch, whatever order batches complete in', async () => {
    const client = newClient();
    await complete(client, '20200131');
    await complete(client, '20200130');
    expect(await item(client)).toMatchObject({ last_complete_batch: '20200131' });
  });

  it('takes a batch out of flight while it waits for a corrected file, and back in with the correction', async () => {
    const client = newClient();
    await m.recordFile(client, '20200130', 'accounts', detail('PERSISTED'));
    expect((await m.recordFile(client, '20200130', 'clients', detail('REJECTED'))).stage).toBe('REJECTED');
    expect((await item(client))?.in_flight ?? new Set()).toEqual(new Set());
    await m.recordFile(client, '20200130', 'portfolios', detail('PERSISTED')); // still waiting for the clients file
    expect((await item(client))?.in_flight ?? new Set()).toEqual(new Set());
    await m.recordFile(client, '20200130', 'clients', detail('PERSISTED', 'e2'));
    expect(await item(client)).toMatchObject({ in_flight: new Set(['20200130']), files: 3, failures: 1 });
  });

  it('takes a failed batch out of flight with the failing step, not its reason, as the last error', async () => {
    const client = newClient();
    let batch = await m.recordFile(client, '20200130', 'accounts', detail('PERSISTED'));
    for (const t of FILE_TYPES.slice(1)) batch = await m.recordFile(client, '20200130', t, detail('PERSISTED'));
    expect(await m.markFailed(batch, 'deposit', 'numeric field overflow for account 12345678')).toMatchObject({ stage: 'FAILED' });
    const failed = await item(client);
    expect(failed?.in_flight ?? new Set()).toEqual(new Set());
    expect(failed?.last_error).toMatchObject({ batch_date: '20200130', what: 'batch failed at deposit' });
  });

  it("restarts today's counters on a new day, and a writer still on the old day adds to the totals only", async () => {
    const client = newClient();
    clock = new Date('2026-03-01T23:59:00Z');
    await m.recordFile(client, '20200130', 'accounts', detail('PERSISTED'));
    clock = new Date('2026-03-02T00:01:00Z');
    await m.recordFile(client, '20200130', 'clients', detail('PERSISTED'));
    expect(await item(client)).toMatchObject({ day: '2026-03-02', files: 2, files_today: 1, rows_today: 2, bytes_today: 10 });
    clock = new Date('2026-03-01T23:59:59Z');
    await m.recordFile(client, '20200130', 'portfolios', detail('PERSISTED'));
    expect(await item(client)).toMatchObject({ day: '2026-03-02', files: 3, rows: 6, files_today: 1, rows_today: 2 });
  });

  it("counts what is loaded now: a corrected load replaces the earlier one's figures in the totals, today counts both", async () => {
    const client = newClient();
    clock = new Date('2026-03-03T10:00:00Z');
    await m.recordFile(client, '20200130', 'accounts', detail('PERSISTED'));
    await m.recordFile(client, '20200130', 'accounts', { ...detail('PERSISTED', 'e2'), rows: 5, bytes: 30 });
    expect(await item(client)).toMatchObject({ files: 1, rows: 5, bytes: 30, files_today: 2, rows_today: 7, bytes_today: 40 });
    // A chunked upload's first record (LOADING) is neither a load nor a refusal yet.
    await m.recordFile(client, '20200130', 'clients', { ...detail('LOADING', 'e3'), rows: 0 });
    const after = await item(client);
    expect(after).toMatchObject({ files: 1, rows: 5 });
    expect(after?.failures).toBeUndefined();
  });

  it('counts chunks in flight up and down', async () => {
    const client = newClient();
    await tracking.chunksQueued(client, 3);
    await Promise.all([1, 2].map(() => tracking.chunkDone(client)));
    expect(await item(client)).toMatchObject({ chunks_in_flight: 1 });
  });
});
