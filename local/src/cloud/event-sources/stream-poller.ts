import { setMaxListeners } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { compileFilters, kinesisFilterView } from './filter';
import type { GaveUp } from './failure-destination';
import { type StreamWrites, shardKey } from '../emulators/stream-writes';
import { createBatchDelivery } from './stream-batch';
import { orderingKey, StreamLanes } from './stream-lanes';
import { dynamodbSource, kinesisSource, type Position, type SourceRecord, type StreamSource } from './stream-sources';

export interface StreamPollerConfig {
  functionName: string;
  kind: 'dynamodb' | 'kinesis';
  streamArn: string;
  batchSize: number;
  /** ParallelizationFactor: batches of one shard in flight at once, each key's records in order (1, AWS's default, if absent). */
  parallelization?: number;
  batchWindowSeconds: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  maxRetryAttempts: number /* -1 = infinite, AWS default for streams */;
  /** -1 (or absent) = no limit, AWS's default. */
  maxRecordAgeSeconds?: number;
  bisectOnError: boolean;
  reportBatchItemFailures: boolean;
  filterPatterns: string[];
  onFailureQueueUrl?: string;
  /** Where each shard's position is kept, so a restarted persistent cloud resumes instead of replaying. */
  checkpointFile?: string;
}

export interface StreamPollerDeps {
  streams?: DynamoDBStreamsClient;
  kinesis?: KinesisClient;
  /** Reads the stream instead of `streams`/`kinesis`. */
  source?: StreamSource;
  sqs: SQSClient;
  invoke: (fn: string, event: unknown, source: string) => Promise<unknown>;
  log: (l: string) => void;
  gaveUp?: (e: GaveUp) => void;
  /** Given, a reader that found nothing sleeps until a write (or IDLE_MS) rather than polling every POLL_MS. */
  writes?: StreamWrites;
}

/** A mapping as Lambda runs one that sets nothing but its source and batch size: from the oldest record, retried until it expires, whole batches, no filter. */
export const PLAIN_MAPPING = {
  batchWindowSeconds: 0,
  startingPosition: 'TRIM_HORIZON',
  maxRetryAttempts: -1,
  bisectOnError: false,
  reportBatchItemFailures: false,
  filterPatterns: [],
} as const satisfies Partial<StreamPollerConfig>;

export interface StreamPoller {
  stop(): Promise<void>;
  caughtUp(): boolean;
  inFlight(): boolean;
}

/** Lambda polls a shard four times a second; locally a little faster keeps tests quick. */
const POLL_MS = 100;
/**
 * How long a reader woken by writes (`deps.writes`) sleeps at most when nothing is new: a write wakes it at once, so
 * this only bounds what no write signals (a record that expires, a stream re-created behind the cloud's back). At a
 * second, an idle cloud's process took 10 to 12 % of a core; at ten, 3 %.
 */
const IDLE_MS = 10_000;
/**
 * How often the shards are listed again. New shards come from a split, a merge or a DynamoDB roll-over, each of
 * which closes a shard being read, and a closed shard starts a listing at once: this only bounds the rest.
 */
const DISCOVER_MS = 5000;
/** A shard's saved position before its first record: the time a LATEST mapping was created (see `pinLatest`). */
const SINCE = 'since:';

interface ShardState {
  caughtUp: boolean;
  finished: Promise<void>;
}

/**
 * An event source mapping of one function on one stream. Every shard is read in order by one loop, which hands its
 * records to `parallelization` lanes (stream-lanes.ts): each lane delivers one batch at a time, a key's records in
 * order; with one lane the shard's batches never overlap. A child shard (DynamoDB rolls shards over, Kinesis splits
 * them) is read once its parent is finished. Records the filters drop count as processed.
 */
export function startStreamPoller(config: StreamPollerConfig, deps: StreamPollerDeps): StreamPoller {
  const source = deps.source ?? sourceFor(config, deps);
  const accept = compileFilters(config.filterPatterns);
  const view = config.kind === 'kinesis' ? (r: SourceRecord) => kinesisFilterView(r.event as never) : (r: SourceRecord) => r.event;
  const positions: Record<string, string> = config.checkpointFile && existsSync(config.checkpointFile) ? JSON.parse(readFileSync(config.checkpointFile, 'utf8')) : {};
  // LATEST on Kinesis is pinned to the mapping's creation (Kinesis arrival times are exact to the millisecond): records
  // arriving from then on are delivered however late the first iterator is taken, and a restart before the first
  // record resumes there instead of skipping what arrived meanwhile. DynamoDB Streams' creation times are whole
  // seconds, so a DynamoDB mapping takes a LATEST iterator as it starts.
  const createdAt = Date.now();
  const pinLatest = config.startingPosition === 'LATEST' && config.kind === 'kinesis';
  const shards = new Map<string, ShardState>();
  const abort = new AbortController();
  // Every shard's reader and every pause waits on it: a stream of many shards is no listener leak.
  setMaxListeners(0, abort.signal);
  const pause = (ms: number) => delay(ms, undefined, { signal: abort.signal }).catch(() => undefined);
  let running = 0;
  // A closed shard usually means a new one: until a listing has run since, the poller is not caught up.
  let closedShards = 0;
  let listedAfter = -1;
  let wakeDiscovery = () => {};

  // stop() waits for no invocation in flight (a transformer may run for minutes): its records stay unchecked,
  // so the next start delivers them again, as Lambda does with a batch whose invocation did not finish.
  const stopping = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(new Error('the poller stopped')), { once: true }));
  stopping.catch(() => undefined);
  const deliver = createBatchDelivery(config, {
    sqs: deps.sqs,
    invoke: (fn, event, source) => Promise.race([deps.invoke(fn, event, source), stopping]),
    log: deps.log,
    gaveUp: deps.gaveUp,
    pause,
    stopped: () => abort.signal.aborted,
    running: (d) => {
      running += d;
    },
  });

  const checkpoint = (shardId: string, sequenceNumber: string) => {
    positions[shardId] = sequenceNumber;
    if (config.checkpointFile) writeFileSync(config.checkpointFile, JSON.stringify(positions));
  };

  async function readShard(shardId: string, initial: Position, state: ShardState): Promise<void> {
    const pinned = positions[shardId]?.startsWith(SINCE) ? Number(positions[shardId]!.slice(SINCE.length)) : undefined;
    const saved = pinned === undefined ? positions[shardId] : undefined;
    // Records that arrived before a pinned LATEST mapping existed count as processed, as records the filters drop do.
    const wanted = (record: SourceRecord) => (pinned === undefined || record.arrival.getTime() >= pinned) && accept(view(record));
    const lanes = new StreamLanes(config.parallelization ?? 1, (r) => orderingKey(config.kind, r));
    const busy = lanes.pending.map(() => false);
    const windowStarts = lanes.pending.map(() => 0);
    const deliveries = new Set<Promise<void>>();
    // The reader waits for a batch to settle (or the next poll) when the lanes hold enough to fill every one.
    let wake = () => {};
    const settledOrPoll = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
        void pause(POLL_MS).then(() => resolve());
      });
    let lastRead: string | undefined;
    let closed = false;
    const writesTo = shardKey(config.kind, config.streamArn, shardId);
    /** Until a write to the shard, a batch settles, or IDLE_MS. */
    const settledOrWrite = async (writes: StreamWrites, since: number) => {
      const waited = new AbortController();
      await new Promise<void>((resolve) => {
        wake = resolve;
        void writes.next(writesTo, since, IDLE_MS, AbortSignal.any([abort.signal, waited.signal])).then(() => resolve());
      });
      waited.abort();
    };

    const save = () => {
      const position = lanes.checkpoint();
      if (position && positions[shardId] !== position) checkpoint(shardId, position);
    };
    // Lambda invokes once the batch is full, the batching window is over, or (here) the closed shard is read.
    const ready = (lane: number) => {
      const pending = lanes.pending[lane]!.length;
      return pending >= config.batchSize || (pending > 0 && (closed || Date.now() - windowStarts[lane]! >= config.batchWindowSeconds * 1000));
    };
    const pump = () => {
      for (let lane = 0; lane < lanes.count; lane += 1) {
        if (lanes.pending[lane]!.length && !windowStarts[lane]) windowStarts[lane] = Date.now();
        if (busy[lane] || abort.signal.aborted || !ready(lane)) continue;
        const delivery = deliverLane(lane);
        deliveries.add(delivery);
        void delivery.finally(() => deliveries.delete(delivery));
      }
    };
    async function deliverLane(lane: number): Promise<void> {
      busy[lane] = true;
      const batch = lanes.pending[lane]!.splice(0, config.batchSize);
      const settled = await deliver(shardId, batch);
      busy[lane] = false;
      // Not settled: the poller stopped, and the records are read again on the next start.
      if (!settled) return;
      lanes.settle(batch);
      save();
      // The lane's next window begins when its previous invocation completes.
      windowStarts[lane] = lanes.pending[lane]!.length ? Date.now() : 0;
      pump();
      wake();
    }

    // Reading resumes after the last record read (the lanes still hold what they have not delivered).
    const position = (): Position => {
      const after = lastRead ?? saved;
      return after ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: after } : initial;
    };
    let iterator: string | undefined;
    while (!closed && !abort.signal.aborted) {
      try {
        iterator ??= await source.iterator(shardId, position());
        const writesBefore = deps.writes?.seen(writesTo) ?? 0;
        if (lanes.outstanding() >= lanes.count * config.batchSize) {
          state.caughtUp = false;
          await settledOrPoll();
          pump();
          continue;
        }
        const page = await source.read(shardId, iterator!);
        iterator = page.next;
        closed = !iterator;
        for (const record of page.records) {
          lastRead = record.sequenceNumber;
          lanes.read(record, wanted(record));
        }
        pump();
        save();
        state.caughtUp = page.records.length === 0 && lanes.outstanding() === 0;
        // A batching window open (records wait in an idle lane): read again at the next poll, which pumps the lane once
        // the window is over. Else sleep until a write, or until a batch in flight settles: the shard may then be caught up.
        if (page.records.length === 0 && !closed) await (lanes.pending.some((p, lane) => p.length > 0 && !busy[lane]) || !deps.writes ? pause(POLL_MS) : settledOrWrite(deps.writes, writesBefore));
      } catch (error) {
        // An expired iterator or a hiccup of the emulator: a new iterator after the last record read.
        if (abort.signal.aborted) break;
        deps.log(`${config.functionName}: reading ${shardId} failed (${String(error)}); resuming`);
        iterator = undefined;
        await pause(POLL_MS * 5);
      }
    }
    // A closed shard is finished once every record read is settled; a stopped poller leaves them unchecked.
    while (closed && lanes.outstanding() && !abort.signal.aborted) {
      pump();
      await settledOrPoll();
    }
    await Promise.all(deliveries);
    if (closed && !abort.signal.aborted) {
      state.caughtUp = true;
      closedShards += 1;
      wakeDiscovery();
    }
  }

  function startShard(shardId: string, parent: ShardState | undefined, initial: Position): void {
    let finish = () => {};
    const state: ShardState = {
      caughtUp: false,
      finished: new Promise<void>((resolve) => {
        finish = resolve;
      }),
    };
    shards.set(shardId, state);
    void (async () => {
      await parent?.finished;
      while (!abort.signal.aborted) {
        try {
          await readShard(shardId, initial, state);
          break;
        } catch (error) {
          // An expired iterator or a hiccup of the emulator: resume from the last checkpoint.
          if (abort.signal.aborted) break;
          deps.log(`${config.functionName}: reading ${shardId} failed (${String(error)}); resuming`);
          await pause(POLL_MS * 5);
        }
      }
      finish();
    })();
  }

  /** Starts a reader for every shard not seen yet, children after their parents. */
  async function discover(first: boolean): Promise<void> {
    const closedBefore = closedShards;
    const listed = await source.shards();
    const fresh = listed.filter((s) => !shards.has(s.shardId));
    const parentOf = new Map(fresh.map((s) => [s.shardId, s.parentShardId]));
    // Parents before children, whatever order the listing uses.
    const depth = (id: string | undefined): number => (id && parentOf.has(id) ? 1 + depth(parentOf.get(id)) : 0);
    for (const shard of fresh.sort((a, b) => depth(a.shardId) - depth(b.shardId))) {
      if (first && pinLatest && !positions[shard.shardId]) checkpoint(shard.shardId, `${SINCE}${createdAt}`);
      // Shards that appear later hold only new records: they are read from their start.
      const initial: Position = { type: first && !pinLatest ? config.startingPosition : 'TRIM_HORIZON' };
      startShard(shard.shardId, shard.parentShardId ? shards.get(shard.parentShardId) : undefined, initial);
    }
    listedAfter = closedBefore;
  }

  const discovering = (async () => {
    for (let first = true; !abort.signal.aborted; ) {
      try {
        await discover(first);
        first = false;
      } catch (error) {
        if (!abort.signal.aborted) deps.log(`${config.functionName}: listing the shards of ${config.streamArn} failed: ${String(error)}`);
      }
      await new Promise<void>((resolve) => {
        wakeDiscovery = resolve;
        void pause(DISCOVER_MS).then(() => resolve());
      });
    }
  })();

  return {
    async stop() {
      abort.abort();
      wakeDiscovery();
      await discovering;
      await Promise.all([...shards.values()].map((s) => s.finished));
    },
    caughtUp: () => listedAfter === closedShards && shards.size > 0 && [...shards.values()].every((s) => s.caughtUp) && running === 0,
    inFlight: () => running > 0,
  };
}

function sourceFor(config: StreamPollerConfig, deps: StreamPollerDeps): StreamSource {
  if (config.kind === 'dynamodb' && deps.streams) return dynamodbSource(deps.streams, config.streamArn);
  if (config.kind === 'kinesis' && deps.kinesis) return kinesisSource(deps.kinesis, config.streamArn);
  throw new Error(`a ${config.kind} stream poller needs a ${config.kind === 'dynamodb' ? 'DynamoDB Streams' : 'Kinesis'} client`);
}
