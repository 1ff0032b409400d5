import { GetRecordsCommand, type GetRecordsCommandOutput, GetShardIteratorCommand, type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';

/**
 * A consumer's view of a Kinesis stream, from TRIM_HORIZON: the first `read()` returns every record of every shard up
 * to its tip, each later one what arrived since (`events --follow`). Each record's data is returned parsed as JSON,
 * exactly as the producer wrote it. A shard a resharding adds is read from its start, a closed one to its end.
 */
export class StreamReader {
  /** Per shard, where its next read starts; null once a closed shard has been read to its end. */
  private readonly next = new Map<string, string | null>();

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
  ) {}

  async read(): Promise<unknown[]> {
    const records: unknown[] = [];
    for (const { ShardId } of await this.shards()) {
      let iterator = this.next.get(ShardId!);
      if (iterator === null) continue;
      iterator ??= (await this.kinesis.send(new GetShardIteratorCommand({ StreamName: this.streamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      while (iterator) {
        const page: GetRecordsCommandOutput = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        for (const record of page.Records ?? []) records.push(JSON.parse(Buffer.from(record.Data!).toString('utf8')));
        iterator = page.NextShardIterator;
        // A page may be cut short (10,000 records or 10 MiB): the shard is read once a page is empty at its tip.
        if (!page.Records?.length && !page.MillisBehindLatest) break;
      }
      this.next.set(ShardId!, iterator ?? null);
    }
    return records;
  }

  /** Every shard of the stream, over as many pages as ListShards takes. */
  private async shards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const page = await this.kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.streamName }));
      shards.push(...(page.Shards ?? []));
      token = page.NextToken;
    } while (token);
    return shards;
  }
}
