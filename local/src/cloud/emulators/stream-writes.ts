import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Tells the local stream readers that a write may have added stream records (an item written to DynamoDB Local,
 * records put to kinesalite), so that an idle reader sleeps until then instead of polling: a dozen readers polling
 * ten times a second cost a third of a core while nothing happens, and a test suite runs two clouds at once.
 */
export class StreamWrites {
  private count = 0;
  private readonly waiters = new Set<() => void>();

  /** How many writes so far: a reader takes it before a read, and so misses no write made during the read. */
  get seen(): number {
    return this.count;
  }

  notify(): void {
    this.count += 1;
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves at the first write after `since` (at once if one came already), after `ms`, or when aborted. */
  next(since: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.count !== since || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /** Notifies once the request, a write when `isWrite` says so by its X-Amz-Target, has been answered. */
  watch(isWrite: (target: string) => boolean): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      if (isWrite(String(req.headers['x-amz-target'] ?? ''))) res.once('finish', () => this.notify());
    };
  }
}

/** DynamoDB's item writes: each may add a record to the table's stream. */
export const isDynamoDbWrite = (target: string) => /\.(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems|ExecuteStatement|BatchExecuteStatement|ExecuteTransaction)$/.test(target);

/** Kinesis's record writes. */
export const isKinesisWrite = (target: string) => /\.PutRecords?$/.test(target);
