import { createHash, randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { type KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { z } from 'zod';
import { logger } from './logger';
import { safeError } from './safe-error';

/**
 * OpenLineage run events (https://openlineage.io, spec 2-0-2): every step of the pipeline reports START, then
 * COMPLETE or FAIL, with the service as the job and what it read and wrote as datasets. One emitter for all steps:
 * the change-feed toolkit (stream-handler.ts, transformer.ts) and persistence call it. Where the events go is set per
 * stage (OPENLINEAGE_DESTINATION): an HTTP endpoint (`https://…`, the events POSTed as JSON), a Kinesis stream
 * (`kinesis:<name>`), a file (`file:<path>`, one event a line: the local cloud's `DIR/openlineage.jsonl`), or nothing
 * (empty, the default). Lineage is a report about the work, never part of it: an event that cannot be sent is logged
 * and the step goes on.
 */
export const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
const FACETS = 'https://openlineage.io/spec/facets';
const PRODUCER = 'https://github.com/dataharvest/dataharvest';
export const NAMESPACE = 'dataharvest';

export const OpenLineageEnv = {
  OPENLINEAGE_DESTINATION: z
    .string()
    .default('')
    .refine((d) => d === '' || /^(https?:\/\/|kinesis:|file:)\S+$/.test(d), 'an http(s) URL, kinesis:<stream>, file:<path> or empty (off)'),
};

export type Facet = { _producer: string; _schemaURL: string } & Record<string, unknown>;
export interface Dataset {
  namespace: string;
  name: string;
  facets?: Record<string, Facet>;
  inputFacets?: Record<string, Facet>;
  outputFacets?: Record<string, Facet>;
}
export interface RunEvent {
  eventType: 'START' | 'COMPLETE' | 'FAIL';
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets?: Record<string, Facet> };
  job: { namespace: string; name: string };
  inputs: Dataset[];
  outputs: Dataset[];
}
export type Emit = (event: RunEvent) => Promise<void>;

const facet = (schemaURL: string, body: Record<string, unknown>): Facet => ({ _producer: PRODUCER, _schemaURL: schemaURL, ...body });

/** The columns of a table or file. */
export const schemaFacet = (fields: ReadonlyArray<{ name: string; type: string }>) =>
  facet(`${FACETS}/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet`, { fields: fields.map((f) => ({ name: f.name, type: f.type })) });
/** Rows written to an output. */
export const rowCountFacet = (rowCount: number) => facet(`${FACETS}/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet`, { rowCount });
/** The data-quality rules an input was held to, each passed or not. */
export const qualityFacet = (assertions: ReadonlyArray<{ assertion: string; success: boolean }>) =>
  facet(`${FACETS}/1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet`, { assertions });
/** An uploaded object: its version is the SHA-256 of its bytes. */
export const versionFacet = (sha256: string) => facet(`${FACETS}/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet`, { datasetVersion: sha256 });
/** The object's SHA-256 and size, as a custom facet (its fields are ours; OpenLineage holds it to the base facet). */
export const sourceFacet = (sha256: string, bytes: number) => facet(`${PRODUCER}/blob/main/docs/lineage.md#source-object-facet`, { sha256, bytes });
const errorFacet = (message: string) => facet(`${FACETS}/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet`, { message, programmingLanguage: 'TypeScript' });
/** Which batch and generation the run worked on. */
const batchFacet = (batch: RunBatch) =>
  facet(`${PRODUCER}/blob/main/docs/lineage.md#batch-run-facet`, { client: batch.client, batch_date: batch.batch_date, ...(batch.generation === undefined ? {} : { generation: batch.generation }) });

/** A PostgreSQL table of the pipeline as a dataset. */
export const table = (name: string, facets?: Partial<Pick<Dataset, 'facets' | 'inputFacets' | 'outputFacets'>>): Dataset => ({ namespace: 'postgres://dataharvest', name, ...facets });

export interface RunBatch {
  client: string;
  batch_date: string;
  /** Unknown to persistence, which loads a file before the batch's generation is settled. */
  generation?: number;
}

/** A run id that follows from a name (RFC 4122 version 5 layout over SHA-1): for a run two invocations share. */
export function runIdOf(name: string): string {
  const hex = createHash('sha1').update(`${NAMESPACE}/${name}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** One run of a step over a batch: START when it begins its work, then COMPLETE or FAIL (once). */
export class LineageRun {
  private inputs: Dataset[] = [];
  private state: 'new' | 'started' | 'ended' = 'new';

  constructor(
    private readonly emit: Emit | undefined,
    private readonly job: string,
    private readonly batch: RunBatch,
    private readonly runId: string = randomUUID(),
  ) {}

  /** The end of a run another invocation started with the same run id (a chunked load: persistence, then the loader). */
  static continued(emit: Emit | undefined, job: string, batch: RunBatch, runId: string, inputs: Dataset[]): LineageRun {
    const run = new LineageRun(emit, job, batch, runId);
    run.inputs = inputs;
    run.state = 'started';
    return run;
  }

  get started(): boolean {
    return this.state === 'started';
  }

  async start(inputs: Dataset[]): Promise<void> {
    this.inputs = inputs;
    this.state = 'started';
    await this.send('START', []);
  }

  /** `inputs`, when given, replace START's: what was only known once read (an object's SHA-256). */
  async complete(outputs: Dataset[], inputs?: Dataset[]): Promise<void> {
    if (this.state !== 'started') return;
    this.state = 'ended';
    if (inputs) this.inputs = inputs;
    await this.send('COMPLETE', outputs);
  }

  async fail(reason: string): Promise<void> {
    if (this.state !== 'started') return;
    this.state = 'ended';
    await this.send('FAIL', [], { errorMessage: errorFacet(reason) });
  }

  private async send(eventType: RunEvent['eventType'], outputs: Dataset[], facets: Record<string, Facet> = {}): Promise<void> {
    if (!this.emit) return;
    await this.emit({
      eventType,
      eventTime: new Date().toISOString(),
      producer: PRODUCER,
      schemaURL: `${SPEC}#/$defs/RunEvent`,
      run: { runId: this.runId, facets: { dataharvest_batch: batchFacet(this.batch), ...facets } },
      job: { namespace: NAMESPACE, name: this.job },
      inputs: this.inputs,
      outputs,
    });
  }
}

/**
 * How long an HTTP destination may take to answer. A step waits for its events: an endpoint the functions cannot
 * reach (their VPC has no way out unless one is made, docs/deploy.md) costs each event this much, not a TCP timeout.
 */
const HTTP_TIMEOUT_MS = 5000;

/** The emitter of a destination (OpenLineageEnv); undefined when off. */
export function lineageEmitter(destination: string, kinesis?: KinesisClient, httpTimeoutMs = HTTP_TIMEOUT_MS): Emit | undefined {
  if (!destination) return undefined;
  const send = sender(destination, kinesis, httpTimeoutMs);
  return async (event) => {
    try {
      await send(event);
    } catch (error) {
      logger.warn('lineage event not sent', { job: event.job.name, event_type: event.eventType, error: safeError(error) });
    }
  };
}

function sender(destination: string, kinesis: KinesisClient | undefined, httpTimeoutMs: number): (event: RunEvent) => Promise<void> {
  if (destination.startsWith('file:')) return (event) => appendFile(destination.slice('file:'.length), `${JSON.stringify(event)}\n`);
  if (destination.startsWith('kinesis:')) {
    const stream = destination.slice('kinesis:'.length);
    return async (event) => {
      await kinesis!.send(new PutRecordCommand({ StreamName: stream, PartitionKey: event.run.runId, Data: Buffer.from(JSON.stringify(event)) }));
    };
  }
  return async (event) => {
    const response = await fetch(destination, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(httpTimeoutMs),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  };
}
