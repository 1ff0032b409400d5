import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clients } from '../emulators/clients';
import { type AsyncConfig, createAsyncInvoker } from './async-invoke';
import type { LocalClock } from '../clock';
import type { StreamWrites } from '../emulators/stream-writes';
import { type Precision, startChangeFeed } from './change-feed';
import type { GaveUp } from './failure-destination';
import { streamMappingConfig } from './mapping-config';
import { matchS3Event, matchS3Rule, type S3Rule, type S3rverEvent, s3NotificationEvent } from './s3-notifications';
import { type ScheduledRule, ScheduledRules } from './scheduled-rules';
import { startStreamPoller, type StreamPoller } from './stream-poller';
import { dynamodbSource, kinesisSource } from './stream-sources';

type Props = Record<string, unknown>;

/** What Lambda answers when no EventInvokeConfig names the function: two retries. */
const DEFAULT_ASYNC: AsyncConfig = { maxRetryAttempts: 2 };

export const filterPatterns = (mapping: Props) => ((mapping.FilterCriteria as { Filters?: Array<{ Pattern: string }> } | undefined)?.Filters ?? []).map((f) => f.Pattern);

/**
 * What invokes the deployed functions besides a direct call: S3 notifications, stream mappings, change feeds, and the
 * asynchronous invocations with their configs and on-failure queues. Each wiring belongs to the resource that made
 * it (its owner, `stack/logicalId`), so deploying a stack again replaces what it wired instead of adding to it.
 */
export class EventSourceWiring {
  private readonly asyncInvoker;
  private readonly asyncConfigs = new Map<string, AsyncConfig>();
  private readonly queueUrls = new Map<string, string>();
  private readonly rules = new Map<string, S3Rule[]>();
  private readonly pollers = new Map<string, StreamPoller>();
  private readonly scheduled: ScheduledRules;
  private stopped = false;

  constructor(
    private readonly deps: {
      clients: Clients;
      invoke: (fn: string, event: unknown, source: string, requestId?: string) => Promise<unknown>;
      log: (line: string) => void;
      gaveUp: (e: GaveUp) => void;
      /** Where readers keep their positions, so a persistent cloud resumes instead of replaying on restart. */
      checkpointDir: string;
      /** The clock scheduled rules fire on. */
      clock: LocalClock;
      /** What wakes idle stream readers. */
      writes: StreamWrites;
    },
  ) {
    this.asyncInvoker = createAsyncInvoker({ invoke: deps.invoke, sqs: deps.clients.sqs, log: deps.log, gaveUp: deps.gaveUp });
    // EventBridge invokes a rule's function asynchronously, with the function's retry configuration.
    this.scheduled = new ScheduledRules(deps.clock, (fn, event) => {
      if (!this.stopped) this.asyncInvoker.invokeAsync(fn, event, this.asyncConfigs.get(fn) ?? DEFAULT_ASYNC);
    });
  }

  /** An enabled events rule with a schedule (providers/events-rules.ts). */
  schedule(owner: string, rule: ScheduledRule): void {
    this.scheduled.add(owner, rule);
  }

  /** A queue of a deployed stack, so destinations can name it by ARN. */
  addQueue(queueArn: string, queueUrl: string): void {
    this.queueUrls.set(queueArn, queueUrl);
  }

  readonly queueUrl = (queueArn: string) => this.queueUrls.get(queueArn);

  configureAsync(functionName: string, config: AsyncConfig): void {
    this.asyncConfigs.set(functionName, config);
  }

  notifyOn(owner: string, rules: S3Rule[]): void {
    this.rules.set(owner, rules);
  }

  /** Routes one of s3rver's events to every function a bucket's notification configuration names for it. */
  routeS3Event(event: S3rverEvent): void {
    const record = event.Records[0];
    if (!record || this.stopped) return;
    for (const rule of [...this.rules.values()].flat()) {
      if (rule.bucket !== record.s3.bucket.name || !matchS3Event(record.eventName, rule.events) || !matchS3Rule(record.s3.object.key, rule)) continue;
      this.asyncInvoker.invokeAsync(rule.functionName, s3NotificationEvent(event, `${rule.functionName}-notification`), this.asyncConfigs.get(rule.functionName) ?? DEFAULT_ASYNC);
    }
  }

  /** Starts polling the stream an event source mapping (or the enhanced fan-out consumer it names) reads. */
  startMapping(owner: string, functionName: string, props: Props): void {
    const streamArn = String(props.EventSourceArn).split('/consumer/')[0]!;
    const kind = streamArn.startsWith('arn:aws:kinesis') ? 'kinesis' : 'dynamodb';
    const { clients } = this.deps;
    this.pollers.set(
      owner,
      startStreamPoller(
        { ...streamMappingConfig(props, this.queueUrl), functionName, kind, streamArn, filterPatterns: filterPatterns(props), checkpointFile: this.checkpointFile(functionName, streamArn) },
        {
          source: kind === 'kinesis' ? kinesisSource(clients.kinesis, streamArn) : dynamodbSource(clients.streams, streamArn),
          sqs: clients.sqs,
          invoke: this.deps.invoke,
          log: this.deps.log,
          gaveUp: this.deps.gaveUp,
          writes: this.deps.writes,
        },
      ),
    );
  }

  /** Kinesis Data Streams for DynamoDB: the table's changes, written to the stream its KinesisStreamSpecification names. */
  async startChangeFeed(owner: string, tableName: string, kinesisStreamArn: string, precision: Precision): Promise<void> {
    const { clients, log } = this.deps;
    this.pollers.set(
      owner,
      await startChangeFeed({ tableName, kinesisStreamArn, precision, clients, log, writes: this.deps.writes, checkpointFile: this.checkpointFile(`change-feed-${tableName}`, kinesisStreamArn) }),
    );
  }

  /** Stops what the owner wired: its poller, its notification rules. */
  async remove(owner: string): Promise<void> {
    this.rules.delete(owner);
    this.scheduled.remove(owner);
    await this.pollers.get(owner)?.stop();
    this.pollers.delete(owner);
  }

  /** No asynchronous invocation is pending and every poller has read all there is. */
  quiet(): boolean {
    return this.asyncInvoker.pending() === 0 && [...this.pollers.values()].every((p) => p.caughtUp());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.scheduled.stop();
    await Promise.all([...this.pollers.values()].map((p) => p.stop()));
  }

  private checkpointFile(reader: string, streamArn: string): string {
    mkdirSync(this.deps.checkpointDir, { recursive: true });
    return join(this.deps.checkpointDir, `${reader}-${createHash('sha1').update(streamArn).digest('hex').slice(0, 8)}.json`);
  }
}
