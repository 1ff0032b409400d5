import fc from 'fast-check';
import { FILE_TYPES, type FileDetail, type FileType } from '@dataharvest/events/batch';
import { startServices, type Services } from '../../local/src/cloud/emulators/services';
import { testClients } from '../../test/support/clients';
import { createMetastoreStack } from '../../test/support/metastore-stack';
import { createMetastore, type Metastore } from '../src/metastore';
import type { StageTime } from '../src/stage-time';

const detail = (status: FileDetail['status'], etag = 'e1'): FileDetail => ({ status, key: 'k', etag, rows: 2, bytes: 10, errors: [], at: new Date().toISOString() });
const done = (generation: number) => ({ status: 'DONE' as const, generation, at: new Date().toISOString() });
let clientNo = 0;
const newClient = () => `C${++clientNo}`;

describe('metastore client against DynamoDB Local', () => {
  let services: Services;
  let m: Metastore;

  beforeAll(async () => {
    services = await startServices();
    // The metastore stack's own tables, created from its packaged template as the local cloud would.
    const { stage } = await createMetastoreStack(services);
    m = createMetastore(testClients(services).dynamo, `dataharvest-metastore-${stage}`);
    for (const name of ['deposit', 'transaction', 'tax']) await m.registerTransformer(name);
  });
  afterAll(() => services?.stop());

  it('reaches PERSISTED exactly once, generation 1, whatever the arrival order (concurrent too)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray([...FILE_TYPES], { minLength: 4 }), fc.boolean(), async (order, concurrent) => {
        const client = newClient();
        const record = (t: FileType) => m.recordFile(client, '20200130', t, detail('PERSISTED'));
        if (concurrent) await Promise.all(order.map(record));
        else for (const t of order) await record(t);
        const batch = await m.getBatch(client, '20200130');
        expect(batch).toMatchObject({ stage: 'PERSISTED', generation: 1, relation_established: false });
      }),
      { numRuns: 12 },
    );
  });

  it('does not start a new generation when the same bytes are recorded again, even concurrently', async () => {
    const client = newClient();
    for (const t of FILE_TYPES) await m.recordFile(client, '20200130', t, detail('PERSISTED'));
    await Promise.all([1, 2, 3].map(() => m.recordFile(client, '20200130', 'accounts', detail('PERSISTED'))));
    expect(await m.getBatch(client, '20200130')).toMatchObject({ stage: 'PERSISTED', generation: 1 });
    expect((await m.recordFile(client, '20200130', 'accounts', detail('PERSISTED', 'e2'))).generation).toBe(2);
  });

  it('decides a refused write again from the item its refusal returned (ALL_OLD), reading nothing more', async () => {
    const client = newClient();
    const dynamo = testClients(services).dynamo;
    const sent: string[] = [];
    dynamo.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize' },
    );
    const watched = createMetastore(dynamo, m.tableName);
    await watched.recordFile(client, '20200130', 'accounts', detail('REJECTED'));
    sent.length = 0;
    // The same refusal retried: its write is refused (nothing new), and the stage it settled is answered as it stands.
    expect(await watched.recordFile(client, '20200130', 'accounts', detail('REJECTED'))).toMatchObject({ stage: 'REJECTED', files: { accounts: { status: 'REJECTED' } } });
    expect(sent).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
  });

  it('marks a batch REJECTED while a file is refused, and a corrected upload brings it back', async () => {
    const client = newClient();
    await m.recordFile(client, '20200130', 'accounts', detail('PERSISTED'));
    expect((await m.recordFile(client, '20200130', 'clients', detail('REJECTED'))).stage).toBe('REJECTED');
    expect((await m.listByStage('REJECTED')).map((b) => b.client)).toContain(client);
    expect((await m.recordFile(client, '20200130', 'clients', detail('PERSISTED', 'e2'))).stage).toBe('RECEIVING');
    const bad = await m.recordFile(client, '20200130', 'accounts', detail('REJECTED', 'e3'));
    expect(bad.account_persisted).toBe(true); // a bad re-upload never undoes a good load
  });

  it('walks PERSISTED → RELATED → TRANSFORMED (once, by the last transformer) → COMPLETE, and a re-upload starts generation 2', async () => {
    const client = newClient();
    for (const t of FILE_TYPES) await m.recordFile(client, '20200130', t, detail('PERSISTED'));
    let batch = (await m.getBatch(client, '20200130'))!;
    batch = (await m.establishRelations(batch, done(1), { portfolio_without_client: 0 }))!;
    expect(batch).toMatchObject({ stage: 'RELATED', relation_established: true, required_transformers: ['deposit', 'tax', 'transaction'] });
    expect(await m.establishRelations(batch, done(1), {})).toBeUndefined(); // only from PERSISTED

    const results = await Promise.all(['deposit', 'transaction', 'tax'].map((n) => m.recordTransformer(batch, n, done(1))));
    // Only the last one to finish moves the batch on; the others saw it still RELATED.
    expect(results.map((b) => b?.stage).sort()).toEqual(['RELATED', 'RELATED', 'TRANSFORMED']);
    batch = (await m.getBatch(client, '20200130'))!;
    expect(batch.stage).toBe('TRANSFORMED');
    expect(await m.markComplete({ ...batch, generation: 0 }, 2)).toBeUndefined(); // a stale generation cannot complete it
    expect((await m.markComplete(batch, 2))?.stage).toBe('COMPLETE');

    const again = await m.recordFile(client, '20200130', 'transactions', detail('PERSISTED', 'e2'));
    expect(again).toMatchObject({ stage: 'PERSISTED', generation: 2, relation_established: false, transformers: {} });
    expect(await m.recordTransformer(batch, 'deposit', done(1))).toBeUndefined(); // generation 1 results are discarded
  });

  it('tells, of each transition it writes, the stage the batch left and how long it was there; of other writes, nothing', async () => {
    const heard: StageTime[] = [];
    const watched = createMetastore(testClients(services).dynamo, m.tableName, undefined, (t) => heard.push(t));
    const client = newClient();
    for (const t of FILE_TYPES) await watched.recordFile(client, '20200130', t, detail('PERSISTED'));
    const batch = (await watched.establishRelations((await watched.getBatch(client, '20200130'))!, done(1), {}))!;
    await watched.recordTransformer(batch, 'deposit', done(1)); // not the last one: the batch stays RELATED
    expect(heard.map((h) => h.stage)).toEqual(['RECEIVING', 'PERSISTED']);
    const [persisted, related] = batch.stage_history!.slice(-2);
    expect(heard[1]!.ms).toBe(Date.parse(related!.at) - Date.parse(persisted!.at));
  });

  it('ignores a late failure of an old generation, so the batch a re-upload started is not marked FAILED', async () => {
    const client = newClient();
    for (const t of FILE_TYPES) await m.recordFile(client, '20200130', t, detail('PERSISTED'));
    const old = (await m.getBatch(client, '20200130'))!;
    const current = await m.recordFile(client, '20200130', 'accounts', detail('PERSISTED', 'e2'));
    expect(current).toMatchObject({ stage: 'PERSISTED', generation: 2 });
    expect(await m.markFailed(old, 'deposit', 'numeric field overflow')).toBeUndefined();
    expect(await m.getBatch(client, '20200130')).toMatchObject({ stage: 'PERSISTED', generation: 2 });
    expect(await m.markFailed(current, 'deposit', 'numeric field overflow')).toMatchObject({ stage: 'FAILED', failure: { step: 'deposit' } }); // its own generation's does
  });

  it('reopens a completed batch for a backfilled transformer without touching the others', async () => {
    const client = newClient();
    for (const t of FILE_TYPES) await m.recordFile(client, '20200130', t, detail('PERSISTED'));
    let batch = (await m.establishRelations((await m.getBatch(client, '20200130'))!, done(1), {}))!;
    for (const n of ['deposit', 'transaction', 'tax']) batch = (await m.recordTransformer(batch, n, done(1)))!;
    batch = (await m.markComplete(batch, 2))!;
    expect(await m.reopenForTransformer(batch, 'fx')).toBe(true);
    const reopened = (await m.listClient(client)).batches[0]!;
    expect(reopened).toMatchObject({ stage: 'RELATED', generation: 1, required_transformers: ['deposit', 'tax', 'transaction', 'fx'] });
    expect(reopened.transformers.deposit?.status).toBe('DONE');
    expect(await m.reopenForTransformer(reopened, 'fx')).toBe(true); // again: harmless, the list stays without duplicates
    const fx = (await m.recordTransformer(reopened, 'fx', done(1)))!;
    expect(fx.stage).toBe('TRANSFORMED');
    expect(fx.required_transformers).toEqual(['deposit', 'tax', 'transaction', 'fx']);
    expect(await m.reopenForTransformer(fx, 'fx')).toBe(false); // done for this generation: nothing to backfill
    // A new version deployed: the batch the earlier one computed runs again, and then not again.
    const v1 = (await m.listClient(client)).batches[0]!;
    expect(await m.reopenForTransformer(v1, 'fx', 'digest-v2')).toBe(true);
    const v2 = (await m.recordTransformer((await m.listClient(client)).batches[0]!, 'fx', { ...done(1), digest: 'digest-v2' }))!;
    expect(await m.reopenForTransformer(v2, 'fx', 'digest-v2')).toBe(false);
  });

  it('records every refused key once, those without a valid client too, however many share a file name', async () => {
    const name = 'accounts_20200130.csv';
    const keys = [...Array.from({ length: 14 }, (_, i) => `incoming/bad client ${i}/${name}`), `incoming/${name}`, `misplaced/${name}`, `incoming/a/b/${name}`];
    for (const key of keys) await m.recordRejectedKey({ client: 'unknown', key, fileName: name, reason: 'invalid client id' });
    const client = newClient();
    // A valid client's refused key: its file name names it, and a second refusal of it replaces the first.
    for (const reason of ['first', 'second']) await m.recordRejectedKey({ client, key: `incoming/${client}/junk.csv`, fileName: 'junk.csv', reason });
    expect((await m.listClient('unknown')).rejected.map((r) => r.key).sort()).toEqual([...keys].sort());
    expect((await m.listClient(client)).rejected).toEqual([expect.objectContaining({ sk: 'REJECTED#junk.csv', reason: 'second' })]);
    const listed = (await m.listRejectedKeys()).map((r) => r.key);
    expect(listed.filter((k) => keys.includes(k)).sort()).toEqual([...keys].sort());
  });

  it("keeps a transformer's fingerprint across generations, and sends every later complete batch round again", async () => {
    const client = newClient();
    const dates = ['20200129', '20200130', '20200131', '20200201'];
    for (const date of dates) for (const t of FILE_TYPES) await m.recordFile(client, date, t, detail('PERSISTED'));
    await m.recordFile(client, '20200203', 'accounts', detail('PERSISTED')); // files still missing: nothing to compute yet
    let batch = (await m.establishRelations((await m.getBatch(client, '20200130'))!, done(1), {}))!;
    batch = (await m.recordTransformer(batch, 'deposit', done(1), 'f1'))!;
    expect(batch.fingerprints).toEqual({ deposit: 'f1' });
    batch = await m.recordFile(client, '20200130', 'accounts', detail('PERSISTED', 'e2'));
    expect(batch).toMatchObject({ generation: 2, transformers: {}, fingerprints: { deposit: 'f1' } });

    const later = (await m.getBatch(client, '20200131'))!;
    await m.establishRelations(later, done(1), {}); // mid-way through its chain: sent round again all the same
    expect(await m.rerunLaterBatches(client, '20200130')).toEqual(['20200131', '20200201']);
    const after = Object.fromEntries((await m.listClient(client)).batches.map((b) => [b.batch_date, [b.stage, b.generation]]));
    expect(after).toEqual({
      '20200129': ['PERSISTED', 1],
      '20200130': ['PERSISTED', 2],
      '20200131': ['PERSISTED', 2],
      '20200201': ['PERSISTED', 2],
      '20200203': ['RECEIVING', 0],
    });
    expect(await m.getBatch(client, '20200131')).toMatchObject({ relation_established: false, transformers: {} });
  });
});
