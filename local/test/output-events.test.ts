import { CreateStreamCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type PortfolioEvent, portfolioEventId } from '@dataharvest/events/portfolio-event';
import { readOutputEvents } from '../src/cli/output-events';
import { type Kinesis, startKinesis } from '../src/cloud/emulators/kinesis';
import { StreamWrites } from '../src/cloud/emulators/stream-writes';

/** More records than one GetRecords page returns (10,000), all on one shard. */
const RECORDS = 10_050;

describe('reading the output stream', () => {
  let kinesis: Kinesis;
  beforeAll(async () => {
    kinesis = await startKinesis(undefined, new StreamWrites());
  });
  afterAll(() => kinesis?.stop());

  it('reads every record of a shard, past the first page', async () => {
    const client = new KinesisClient({ endpoint: kinesis.endpoint, region: 'eu-central-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, requestHandler: new NodeHttpHandler() });
    await client.send(new CreateStreamCommand({ StreamName: 'events', ShardCount: 1 }));
    const event = (i: number): PortfolioEvent => {
      const key = { type: 'portfolio.batch.v1' as const, client: 'BIG', batch_date: '20200130', version: 1, portfolio_reference: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` };
      return {
        ...key,
        event_id: portfolioEventId(key),
        client_reference: '00000000-0000-4000-8000-000000000000',
        account_number: String(i),
        deposits_total: '0.00',
        deposits_running_total: '0.00',
        transaction_count: 0,
        net_amount: '0.00',
        totals_by_keyword: {},
        tax_free_allowance: '0.00',
        taxes_paid: '0.00',
        tax_transactions_total: '0.00',
        allowance_remaining: '0.00',
        tax_mismatch: false,
        published_at: '2020-01-31T00:00:00.000Z',
      };
    };
    for (let start = 0; start < RECORDS; start += 500) {
      const Records = Array.from({ length: Math.min(500, RECORDS - start) }, (_, k) => ({ PartitionKey: 'p', Data: Buffer.from(JSON.stringify(event(start + k))) }));
      await client.send(new PutRecordsCommand({ StreamName: 'events', Records }));
    }
    const events = await readOutputEvents(client, 'events');
    expect(events).toHaveLength(RECORDS);
    expect(events.at(-1)!.account_number).toBe(String(RECORDS - 1));
    client.destroy();
  });
});
