import type { SourceRecord } from './stream-sources';

/**
 * What Lambda keeps in order when it runs several batches of one shard at once (ParallelizationFactor): a Kinesis
 * record's partition key, a DynamoDB stream record's item (its whole key, partition and sort).
 */
export function orderingKey(kind: 'dynamodb' | 'kinesis', record: SourceRecord): string {
  const event = record.event as { kinesis?: { partitionKey?: unknown }; dynamodb?: { Keys?: unknown } };
  return kind === 'kinesis' ? String(event.kinesis?.partitionKey) : JSON.stringify(event.dynamodb?.Keys ?? null);
}

/**
 * The concurrent batches of one shard. Every record read goes to one of `count` lanes, each delivered one batch at a
 * time: a key with records outstanding (pending or in flight) stays in its lane, so its records keep their order;
 * a key with none goes to the least loaded lane. The shard's checkpoint only passes records that are settled
 * (delivered, given up or filtered out) together with every record read before them, as Lambda's does.
 */
export class StreamLanes {
  /** Each lane's records not yet handed to a batch, in shard order. */
  readonly pending: SourceRecord[][];
  private readonly load: number[];
  private readonly owners = new Map<string, { lane: number; outstanding: number }>();
  /** Every record read and not settled, in read order, with the record read just before it. */
  private readonly unsettled = new Map<SourceRecord, string | undefined>();
  private lastRead: string | undefined;

  constructor(
    readonly count: number,
    private readonly keyOf: (record: SourceRecord) => string,
  ) {
    this.pending = Array.from({ length: count }, () => []);
    this.load = Array.from({ length: count }, () => 0);
  }

  /** A record read from the shard: queued in its lane when the filters accept it, settled at once when they drop it. */
  read(record: SourceRecord, accepted: boolean): void {
    const previous = this.lastRead;
    this.lastRead = record.sequenceNumber;
    if (!accepted) return;
    const key = this.keyOf(record);
    const owner = this.owners.get(key) ?? { lane: this.leastLoaded(), outstanding: 0 };
    owner.outstanding += 1;
    this.owners.set(key, owner);
    this.load[owner.lane]! += 1;
    this.pending[owner.lane]!.push(record);
    this.unsettled.set(record, previous);
  }

  /** Records whose batch is settled: their keys may move to another lane once none of theirs is outstanding. */
  settle(records: SourceRecord[]): void {
    for (const record of records) {
      if (!this.unsettled.delete(record)) continue;
      const key = this.keyOf(record);
      const owner = this.owners.get(key)!;
      this.load[owner.lane]! -= 1;
      owner.outstanding -= 1;
      if (!owner.outstanding) this.owners.delete(key);
    }
  }

  /** The sequence number the shard may be checkpointed at: everything read up to it is settled. */
  checkpoint(): string | undefined {
    for (const previous of this.unsettled.values()) return previous;
    return this.lastRead;
  }

  /** Records read and not settled yet. */
  outstanding(): number {
    return this.unsettled.size;
  }

  private leastLoaded(): number {
    let best = 0;
    for (let lane = 1; lane < this.count; lane += 1) if (this.load[lane]! < this.load[best]!) best = lane;
    return best;
  }
}
