import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ComposedEvent } from '@dataharvest/events/portfolio-event';
import { putRecords } from '@dataharvest/shared/kinesis';

/**
 * Publishes the events partitioned by portfolio; an event may arrive twice and consumers drop duplicates by its
 * event_id. The partition key is the portfolio reference, not the event_id: the id changes with every version, so as
 * a key it would scatter one portfolio's versions over the shards with no order between them, while the reference
 * sends them all to one shard, in the order they were published (consumers still keep the highest version, since a
 * slow catapult of an old generation may publish late).
 */
export async function publish(kinesis: KinesisClient, streamName: string, events: ComposedEvent[]): Promise<void> {
  await putRecords(
    kinesis,
    streamName,
    events.map((e) => ({ PartitionKey: e.portfolio_reference, Data: Buffer.from(JSON.stringify(e)) })),
  );
}
