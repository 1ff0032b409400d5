import type { FileDetail } from '@dataharvest/events/batch';
import { createClientTracking } from '@dataharvest/shared/client-tracking';
import { createMetastore } from '@dataharvest/shared/metastore';
import { testClients } from '../../test/support/clients';
import { createMetastoreStack } from '../../test/support/metastore-stack';
import type { Connection } from '../src/cli/connection';
import { startServices, type Services } from '../src/cloud/emulators/services';
import { consoleState } from '../src/console/state';

const DATE = '20200130';
const detail = (status: FileDetail['status']): FileDetail => ({ status, key: 'k', etag: 'e1', rows: 2, bytes: 10, errors: [], at: new Date().toISOString() });

/** The console's GET /api/state against DynamoDB Local, its reads counted. */
describe('the status console state', () => {
  let services: Services;
  let on: Connection;
  let reads = 0;

  beforeAll(async () => {
    services = await startServices();
    const stack = await createMetastoreStack(services);
    const aws = testClients(services);
    aws.dynamo.middlewareStack.add(
      (next) => async (args) => {
        reads += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countRequests' },
    );
    const tracking = createClientTracking(aws.dynamo, `dataharvest-client-tracking-${stack.stage}`);
    const deployment = { stage: stack.stage, exports: { [`dataharvest-${stack.stage}-client-tracking-table`]: tracking.tableName } };
    on = { deployment, aws, metastore: createMetastore(aws.dynamo, `dataharvest-metastore-${stack.stage}`, tracking) };
  });
  afterAll(() => services?.stop());

  /** A client with a batch, a failure item and a refused key, as persistence and the transformers record them. */
  const busyClient = async (client: string) => {
    await on.metastore.recordFile(client, DATE, 'accounts', detail('PERSISTED'));
    await on.metastore.recordFile(client, DATE, 'clients', detail('REJECTED'));
    await on.metastore.recordRejectedKey({ client, key: `incoming/${client}/junk.csv`, fileName: 'junk.csv', reason: 'not <type>_<YYYYMMDD>.csv' });
    await on.metastore.recordFailure({ client, batch_date: DATE, generation: 1 }, 'tax', 'boom');
  };
  const readsOf = async () => {
    reads = 0;
    const state = await consoleState(on, []);
    return { reads, state };
  };

  it('lists every refused key: of clients without a batch, and of keys without a valid client', async () => {
    await busyClient('BUSY_CO');
    await on.metastore.recordRejectedKey({ client: 'ONLY_REFUSED', key: 'incoming/ONLY_REFUSED/x.csv', fileName: 'x.csv', reason: 'not <type>_<YYYYMMDD>.csv' });
    for (const key of ['incoming/a b/accounts_20200130.csv', 'incoming/c d/accounts_20200130.csv']) {
      await on.metastore.recordRejectedKey({ client: 'unknown', key, fileName: 'accounts_20200130.csv', reason: 'invalid client id' });
    }
    const { state } = await readsOf();
    expect(state.rejected.map((r) => r.key).sort()).toEqual(['incoming/BUSY_CO/junk.csv', 'incoming/ONLY_REFUSED/x.csv', 'incoming/a b/accounts_20200130.csv', 'incoming/c d/accounts_20200130.csv']);
    expect(state.reports.filter((r) => r.status === 'REJECTED').map((r) => r.key)).toEqual(expect.arrayContaining(state.rejected.map((r) => r.key)));
    expect(state.batches.find((b) => b.client === 'BUSY_CO')?.failures).toEqual([expect.objectContaining({ function: 'tax', reason: 'boom' })]);
  });

  it('reads as often for 40 clients as for 2', async () => {
    const few = await readsOf();
    for (let i = 0; i < 38; i++) await busyClient(`MANY_${i}`);
    const many = await readsOf();
    expect(many.state.batches.filter((b) => b.client.startsWith('MANY_')).length).toBe(38);
    expect(many.state.batches.filter((b) => b.failures?.length).length).toBe(39);
    expect(many.reads).toBe(few.reads);
  });
});
