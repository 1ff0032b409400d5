import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Tells the local stream readers that a write may have added records to what they read, so that an idle reader sleeps
 * until then instead of polling: a dozen readers polling ten times a second cost a third of a core while nothing
 * happens, and a test suite runs two clouds at once. Writes are told by what they reach (`dynamodbShard`,
 * `kinesisShard`): one woke every reader of the cloud, so a metastore write had every shard of the change feed read
 * by every mapping, some 40 reads that found nothing (6,200 of the 7,100 reads of a sample chain).
 */
export class StreamWrites {
  private readonly counts = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  /** How many writes to `key` so far: a reader takes it before a read, and so misses no write made during the read. */
  seen(key: string): number {
    // Known from now on, so that a write `notifyAll` reaches wakes this reader too.
    if (!this.counts.has(key)) this.counts.set(key, 0);
    return this.counts.get(key)!;
  }

  notify(key: string): void {
    this.counts.set(key, this.seen(key) + 1);
    for (const wake of [...(this.waiters.get(key) ?? [])]) wake();
  }

  /** A write whose shards are unknown (an answer that could not be read) may have reached any key of `prefix`. */
  notifyAll(prefix: string): void {
    for (const key of [...this.counts.keys()]) if (key.startsWith(prefix)) this.notify(key);
  }

  /** Resolves at the first write to `key` after `since` (at once if one came already), after `ms`, or when aborted. */
  next(key: string, since: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.seen(key) !== since || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiting = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, waiting);
      const wake = () => {
        clearTimeout(timer);
        waiting.delete(wake);
        if (!waiting.size) this.waiters.delete(key);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiting.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /**
   * DynamoDB's front: once an item write is answered, the readers of each table it names. A table's stream has one
   * open shard at a time, so the table is the key.
   */
  watchDynamoDb(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      if (!isDynamoDbWrite(target(req))) return;
      const body = collected(req);
      res.once('finish', () => {
        const tables = writtenTables(body());
        if (tables) for (const table of tables) this.notify(dynamodbShard(table));
        else this.notifyAll(dynamodbShard(''));
      });
    };
  }

  /** Kinesis's front: once a record write is answered, the readers of the shards its answer names. */
  watchKinesis(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      if (!isKinesisWrite(target(req))) return;
      const body = collected(req);
      const answer = answered(res);
      res.once('finish', () => {
        const stream = streamNamed(body());
        const shards = stream && answeredShards(answer());
        if (stream && shards) for (const shard of shards) this.notify(kinesisShard(stream, shard));
        else this.notifyAll(kinesisShard(stream ?? '', ''));
      });
    };
  }
}

/** What a reader of `shardId` waits on: its table's stream, or its Kinesis shard. */
export function shardKey(kind: 'dynamodb' | 'kinesis', streamArn: string, shardId: string): string {
  return kind === 'dynamodb' ? dynamodbShard(tableOf(streamArn)) : kinesisShard(streamArn.split('/').pop()!, shardId);
}

/** The key of a DynamoDB table's stream. */
export const dynamodbShard = (table: string) => `dynamodb:${table}`;
/** The key of one shard of a Kinesis stream. */
export const kinesisShard = (stream: string, shardId: string) => `kinesis:${stream}${stream && '/'}${shardId}`;

/** DynamoDB's item writes: each may add a record to the table's stream. */
export const isDynamoDbWrite = (target: string) => /\.(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems|ExecuteStatement|BatchExecuteStatement|ExecuteTransaction)$/.test(target);

/** Kinesis's record writes. */
export const isKinesisWrite = (target: string) => /\.PutRecords?$/.test(target);

const target = (req: IncomingMessage) => String(req.headers['x-amz-target'] ?? '');

/** The request's body as it streams to the server behind (a second listener; the server's own reads it unchanged). */
function collected(req: IncomingMessage): () => Buffer {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks);
}

/** The answer's body: kinesalite answers in one `end(body)`. */
function answered(res: ServerResponse): () => unknown {
  let body: unknown;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    body = args[0];
    return end(...args);
  }) as ServerResponse['end'];
  return () => body;
}

function parsed(body: unknown): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(String(body));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The tables an item write names, PartiQL's excepted (undefined: any table may have been written). */
export function writtenTables(body: Buffer): string[] | undefined {
  const request = parsed(body);
  if (!request) return undefined;
  if (typeof request.TableName === 'string') return [tableOf(request.TableName)];
  if (request.RequestItems && typeof request.RequestItems === 'object') return Object.keys(request.RequestItems).map(tableOf);
  if (Array.isArray(request.TransactItems))
    return (request.TransactItems as Array<Record<string, { TableName?: string }>>).flatMap((item) => Object.values(item).map((op) => tableOf(op.TableName ?? '')));
  return undefined;
}

/** A table named by name or ARN (arn:…:table/<name>, a stream's arn:…:table/<name>/stream/<label>). */
export function tableOf(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split('/')[1] ?? '') : nameOrArn;
}

/** The stream a record write names, by name or ARN. */
function streamNamed(body: Buffer): string | undefined {
  const request = parsed(body);
  const name = request?.StreamName ?? (typeof request?.StreamARN === 'string' ? request.StreamARN.split('/').pop() : undefined);
  return typeof name === 'string' ? name : undefined;
}

/** The shards PutRecord's or PutRecords' answer names. */
function answeredShards(body: unknown): string[] | undefined {
  const answer = parsed(body);
  if (typeof answer?.ShardId === 'string') return [answer.ShardId];
  if (Array.isArray(answer?.Records)) return (answer.Records as Array<{ ShardId?: string }>).flatMap((r) => (r.ShardId ? [r.ShardId] : []));
  return undefined;
}
