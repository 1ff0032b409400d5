import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { ComposedEvent } from '@dataharvest/events/portfolio-event';

/** PutRecords takes at most 500 records a call. */
export const MAX_RECORDS = 500;
const ATTEMPTS = 5;

/**
 * PutRecords in chunks of 500, partitioned by portfolio; entries Kinesis refuses (throttling) are sent again, so an
 * event may arrive twice and consumers drop duplicates by its event_id. The partition key is the portfolio reference,
 * not the event_id: the id changes with every version, so as a key it would scatter one portfolio's versions over the
 * shards with no order between them, while the reference sends them all to one shard, in the order they were
 * published (consumers still keep the highest version, since a slow catapult of an old generation may publish late).
 */
export async function publish(kinesis: KinesisClient, streamName: string, events: ComposedEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += MAX_RECORDS) {
    let pending = events.slice(i, i + MAX_RECORDS).map((e) => ({ PartitionKey: e.portfolio_reference, Data: Buffer.from(JSON.stringify(e)) }));
    for (let attempt = 1; pending.length; attempt++) {
      const out = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: pending }));
      pending = pending.filter((_, k) => out.Records?.[k]?.ErrorCode);
      if (pending.length && attempt >= ATTEMPTS) throw new Error(`${pending.length} event(s) still refused by Kinesis after ${ATTEMPTS} attempts`);
      if (pending.length) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}
