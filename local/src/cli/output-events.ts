import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { PortfolioEvent } from '@dataharvest/events/portfolio-event';

/** Every portfolio event on the output stream, oldest first (a consumer's view, from TRIM_HORIZON). */
export async function readOutputEvents(kinesis: KinesisClient, streamName: string): Promise<PortfolioEvent[]> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const events: PortfolioEvent[] = [];
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) events.push(PortfolioEvent.parse(JSON.parse(Buffer.from(record.Data!).toString('utf8'))));
      // A page may be cut short (10,000 records or 10 MiB): the shard is read once a page is empty at its tip.
      if (!page.Records?.length && !page.MillisBehindLatest) break;
      iterator = page.NextShardIterator;
    }
  }
  return events;
}

/** The latest version of each portfolio's event for one batch: what a downstream consumer ends up with. */
export function latestForBatch(events: PortfolioEvent[], client: string, batchDate: string): PortfolioEvent[] {
  const latest = new Map<string, PortfolioEvent>();
  for (const e of events) {
    if (e.client !== client || e.batch_date !== batchDate) continue;
    const seen = latest.get(e.portfolio_reference);
    if (!seen || e.version >= seen.version) latest.set(e.portfolio_reference, e);
  }
  return [...latest.values()].sort((a, b) => a.portfolio_reference.localeCompare(b.portfolio_reference));
}
