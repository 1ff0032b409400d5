import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import { ingestBucket } from '../../../local/src/cli/connection';
import { s3Event } from '../../support/s3-event';
import type { Harness } from '../harness';
import { DATE, fileName } from '../inputs';
import type { Scenario } from '../scenario';

/** The metastore's change feed (its Kinesis stream), named by the stack's export. */
const changeFeed = (h: Harness) => h.cloud.exports[`dataharvest-${h.cloud.stage}-metastore-change-feed-arn`]!.split('/')[1]!;

/** Puts every change-feed record of the client's items so far onto the feed again, as a replayed batch would deliver them. */
async function replayFeed(h: Harness, client: string): Promise<number> {
  const kinesis = h.on.aws.kinesis;
  const StreamName = changeFeed(h);
  const records: Array<{ Data: Uint8Array; PartitionKey: string }> = [];
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName }));
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) {
        const change = JSON.parse(Buffer.from(r.Data!).toString('utf8')) as { dynamodb?: { Keys?: { pk?: { S?: string } } } };
        if (change.dynamodb?.Keys?.pk?.S === `CLIENT#${client}`) records.push({ Data: r.Data!, PartitionKey: r.PartitionKey! });
      }
      if (!page.Records?.length && !page.MillisBehindLatest) break;
      iterator = page.NextShardIterator;
    }
  }
  for (let i = 0; i < records.length; i += 500) await kinesis.send(new PutRecordsCommand({ StreamName, Records: records.slice(i, i + 500) }));
  return records.length;
}

/** The 24 arrival orders of a batch's files, and a deterministic sample of them (first, last, two between). */
function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}
export const SAMPLED_ORDERS: FileType[][] = ((all) => [all[0]!, all[9]!, all[14]!, all[23]!])(permutations(FILE_TYPES));

export const delivery: Scenario[] = [
  {
    name: 'duplicate-s3-events',
    cloud: 'default',
    fast: true,
    async run(h, client) {
      const files = await h.input('small');
      const etags = await h.upload(client, files);
      const persistence = h.fn('persistence');
      // Each file's notification twice more, at once: S3 delivers at least once, and may repeat.
      const failed: string[] = [];
      await Promise.all(
        FILE_TYPES.flatMap((type) =>
          [1, 2].map(() =>
            h.cloud.invoke(persistence, s3Event(ingestBucket(h.cloud), `incoming/${client}/${fileName(type)}`, etags[type]!)).catch((e: Error) => {
              failed.push(`a repeated S3 event of ${type} failed: ${e.message}`);
            }),
          ),
        ),
      );
      return [...failed, ...(await h.compare(client, 'small'))];
    },
  },
  {
    name: 'replayed-change-feed',
    cloud: 'default',
    fast: true,
    async run(h, client) {
      await h.upload(client, await h.input('small'));
      await h.until('relations', async () => {
        const stage = (await h.on.metastore.getBatch(client, DATE))?.stage;
        return stage && !['RECEIVING', 'PERSISTED'].includes(stage) ? stage : undefined;
      });
      // Once mid-chain and once after it: every record of the client's items so far, delivered again.
      const midway = await replayFeed(h, client);
      await h.settled(client);
      const after = await replayFeed(h, client);
      const replayed = midway && after ? [] : ['nothing was replayed: the change feed held no record of the batch'];
      return [...replayed, ...(await h.compare(client, 'small'))];
    },
  },
  {
    name: 'same-file-twice-at-once',
    cloud: 'default',
    fast: true,
    async run(h, client) {
      const files = await h.input('small');
      await Promise.all([h.upload(client, files), h.upload(client, files)]);
      return h.compare(client, 'small');
    },
  },
  {
    name: 'arrival-orders',
    cloud: 'default',
    async run(h, client) {
      const files = await h.input('small');
      const out: string[] = [];
      for (const order of SAMPLED_ORDERS) {
        const each = `${client}_${order.map((t) => t[0]!.toUpperCase()).join('')}`;
        for (const type of order) {
          await h.put(each, type, files[type]);
          await h.until(`${each}'s ${type} file`, async () => (await h.on.metastore.getBatch(each, DATE))?.files[type]);
        }
        out.push(...(await h.compare(each, 'small')).map((d) => `order ${order.join(',')}: ${d}`));
      }
      return out;
    },
  },
  {
    name: 'corrected-reupload',
    cloud: 'default',
    async run(h, client) {
      await h.upload(client, await h.input('small'));
      await h.until('relations', async () => {
        const stage = (await h.on.metastore.getBatch(client, DATE))?.stage;
        return stage && !['RECEIVING', 'PERSISTED'].includes(stage) ? stage : undefined;
      });
      await h.put(client, 'transactions', (await h.input('corrected')).transactions);
      // The correction is a second generation: its number, the events' version and the stage history say so, and its
      // transformers count the first generation's rows they replace (rows_written).
      return h.compare(client, 'corrected', { generation: 2, ignore: ['generation', 'version', 'stage_history', 'rows_written'] });
    },
  },
];
