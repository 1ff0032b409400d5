import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, type QueryCommandInput, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  allPersisted,
  Batch,
  type Contribution,
  FILE_TYPES,
  persistedFlag,
  RegistryEntry,
  RejectedKey,
  type FileDetail,
  type FileType,
  type Stage,
  type TransformerState,
} from '@dataharvest/events/batch';
import { INCOMING_PREFIX } from '@dataharvest/events/object-key';
import type { Quality } from '@dataharvest/events/quality';
import { fromStages, type Step, toStage } from '@dataharvest/events/state-machine';
import type { ClientTracking } from './client-tracking';
import { createControlStore } from './control-totals';
import { DataHarvestError } from './errors';
import { createFailureLog } from './failures';
import { createLateStore } from './late-deliveries';
import { type StageTime, stageLeft } from './stage-time';
import { z } from 'zod';

/**
 * The typed metastore client. Key design (docs/metastore.md):
 *   batch        pk CLIENT#<client>  sk BATCH#<yyyymmdd>     one item per client and batch date
 *   rejected key pk CLIENT#<client>  sk REJECTED#<file name>[#<key hash>] a file whose key could not be accepted
 *   registry     pk REGISTRY         sk TRANSFORMER#<name>   transformers a batch needs before it is TRANSFORMED
 * GSI `by-stage` (gsi1pk STAGE#<stage>, gsi1sk <yyyymmdd>#<client>) lists batches by stage.
 * Every write is one conditional UpdateItem: state moves only from the state the writer saw.
 */
export const batchKey = (client: string, batchDate: string) => ({ pk: `CLIENT#${client}`, sk: `BATCH#${batchDate}` });
const REGISTRY_PK = 'REGISTRY';

/**
 * A refused key's sort key, one item per key: the file name when the key is incoming/<client>/<file name> (the
 * name then says which key); else (no valid client, another folder, a deeper path, a shortened name) the file name and a
 * hash of the whole key, so that two such keys never share an item.
 */
export function rejectedKeySk(rejected: { client: string; key: string; fileName: string }): string {
  if (rejected.key === `${INCOMING_PREFIX}${rejected.client}/${rejected.fileName}`) return `REJECTED#${rejected.fileName}`;
  return `REJECTED#${rejected.fileName}#${createHash('sha256').update(rejected.key).digest('hex').slice(0, 16)}`;
}

/** The metastore's table, as every function's serverless.yml names it. */
export const MetastoreEnv = { METASTORE_TABLE: z.string().min(1) };

const now = () => new Date().toISOString();

/** Thrown when a conditional write finds the batch no longer in the state the writer assumed. */
export class StaleStateError extends DataHarvestError {
  override name = 'StaleStateError';
}

export type Metastore = ReturnType<typeof createMetastore>;

/** A conditional update's outcome: the item as written, or, its condition failed, the item as it stood (if any). */
type Written = { written: Batch } | { stood: Batch | undefined };

/**
 * The metastore client on one table; `dynamo` drops undefined values, as awsClients' does. With `tracking`, each
 * transition whose conditional write succeeded is also counted in the client tracking table (docs/metastore.md).
 * `onStageLeft` hears, of each transition written, the stage the batch left and how long it was in it (a function's
 * metric; the CLI passes none, so its output holds no metric lines).
 */
export function createMetastore(dynamo: DynamoDBDocumentClient, tableName: string, tracking?: ClientTracking, onStageLeft?: (left: StageTime) => void) {
  /** A refused write answers the item its condition failed on (ALL_OLD): a writer decides again without reading it. */
  async function write(input: Omit<UpdateCommandInput, 'TableName' | 'ReturnValues' | 'ReturnValuesOnConditionCheckFailure'>): Promise<Written> {
    try {
      const out = await dynamo.send(new UpdateCommand({ ...input, TableName: tableName, ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      const written = out.Attributes as Batch;
      // A stage transition (stageSet) appends ':entered' to the history.
      const left = onStageLeft && input.ExpressionAttributeValues?.[':entered'] ? stageLeft(written) : undefined;
      if (left) onStageLeft?.(left);
      return { written };
    } catch (error) {
      // The document client does not unmarshall an error's item.
      if (error instanceof ConditionalCheckFailedException) return { stood: error.Item && Batch.parse(unmarshall(error.Item)) };
      throw error;
    }
  }

  /** The item as written; undefined if the condition failed. */
  async function update(input: Parameters<typeof write>[0]): Promise<Batch | undefined> {
    const outcome = await write(input);
    return 'written' in outcome ? outcome.written : undefined;
  }

  /** Creates the batch item if it is new; never touches an existing one's state. Returns the item as it is now. */
  async function ensureBatch(client: string, batchDate: string): Promise<Batch | undefined> {
    const flags = Object.fromEntries(Object.values(persistedFlag).map((f) => [f, false]));
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':stage': 'RECEIVING',
      ':gsi': 'STAGE#RECEIVING',
      ':empty': {},
      ':zero': 0,
      ':false': false,
      ':now': now(),
      ':client': client,
      ':date': batchDate,
      ':gsisk': `${batchDate}#${client}`,
    };
    const sets = [
      'client = :client',
      'batch_date = :date',
      'stage = if_not_exists(stage, :stage)',
      'gsi1pk = if_not_exists(gsi1pk, :gsi)',
      'gsi1sk = :gsisk',
      'files = if_not_exists(files, :empty)',
      'transformers = if_not_exists(transformers, :empty)',
      'generation = if_not_exists(generation, :zero)',
      'relation_established = if_not_exists(relation_established, :false)',
      'fingerprints = if_not_exists(fingerprints, :empty)',
      'created_at = if_not_exists(created_at, :now)',
      'updated_at = :now',
    ];
    Object.keys(flags).forEach((flag, i) => {
      names[`#f${i}`] = flag;
      sets.push(`#f${i} = if_not_exists(#f${i}, :false)`);
    });
    return update({ Key: batchKey(client, batchDate), UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values });
  }

  /** The condition that the batch is in a stage the step may move it from (events/src/state-machine.ts). */
  function stageIn(step: Step) {
    const stages = fromStages(step);
    return { expr: `stage IN (${stages.map((_, i) => `:from${i}`).join(', ')})`, values: Object.fromEntries(stages.map((stage, i) => [`:from${i}`, stage])) };
  }

  /** Moves the stage and appends it to `stage_history` (list_append needs no existing attribute, unlike a map path). */
  function stageSet(stage: Stage) {
    const at = now();
    return {
      expr: 'stage = :newStage, gsi1pk = :newGsi, updated_at = :now, stage_history = list_append(if_not_exists(stage_history, :noHistory), :entered)',
      values: { ':newStage': stage, ':newGsi': `STAGE#${stage}`, ':now': at, ':noHistory': [], ':entered': [{ stage, at }] },
    };
  }

  async function getBatch(client: string, batchDate: string): Promise<Batch | undefined> {
    const out = await dynamo.send(new GetCommand({ TableName: tableName, Key: batchKey(client, batchDate), ConsistentRead: true }));
    return out.Item ? Batch.parse(out.Item) : undefined;
  }

  /**
   * Records the outcome of one file upload. A persisted file sets its `<type>_persisted` flag; a rejected
   * one leaves the flag as it was, so a bad re-upload never undoes a good earlier load.
   * Then settles the batch stage: PERSISTED once all four are in, whatever their arrival order.
   */
  /**
   * How many chunks of a chunked upload are loaded: only ever up, and only while the file's record is that upload's,
   * so a late or repeated count changes nothing.
   */
  async function recordChunksDone(client: string, batchDate: string, type: FileType, uploadId: string, done: number): Promise<void> {
    await update({
      Key: batchKey(client, batchDate),
      UpdateExpression: 'SET files.#type.chunks.done = :done, updated_at = :now',
      ConditionExpression: 'files.#type.upload_id = :upload AND files.#type.chunks.done < :done',
      ExpressionAttributeNames: { '#type': type },
      ExpressionAttributeValues: { ':done': done, ':upload': uploadId, ':now': now() },
    });
  }

  async function recordFile(client: string, batchDate: string, type: FileType, detail: FileDetail): Promise<Batch> {
    // The upload this one replaces, as it was just now: a racing upload of the same file could slip in between, and
    // then only the client tracking totals would be off by its figures.
    const before = (await ensureBatch(client, batchDate))?.files[type];
    const persisted = detail.status === 'PERSISTED';
    const outcome = await write({
      Key: batchKey(client, batchDate),
      UpdateExpression: `SET files.#type = :detail, updated_at = :now${persisted ? ', #flag = :true' : ''}`,
      // The same bytes settled again the same way (two uploads of one file racing, a retried refusal) are no new
      // outcome: no second generation, nothing counted twice.
      ConditionExpression: 'NOT (files.#type.#status = :status AND files.#type.#etag = :etag)',
      ExpressionAttributeNames: { '#type': type, '#status': 'status', '#etag': 'etag', ...(persisted ? { '#flag': persistedFlag[type] } : {}) },
      ExpressionAttributeValues: { ':detail': detail, ':now': now(), ':status': detail.status, ':etag': detail.etag ?? '', ...(persisted ? { ':true': true } : {}) },
    });
    if (!('written' in outcome)) {
      const current = outcome.stood;
      if (!current) throw new Error('metastore update of an existing batch failed');
      // A retried refusal still settles the stage, which its first attempt may not have reached.
      return persisted ? current : settleReceivingStage(current, false);
    }
    const image = outcome.written;
    // Counted before the stage moves on, so a batch is in flight before any later step can end it.
    await tracking?.fileSettled(client, batchDate, type, detail, persisted && before?.status === 'PERSISTED' ? before : undefined);
    const settled = await settleReceivingStage(image, persisted);
    if (settled.stage === 'REJECTED') await tracking?.batchEnded(client, batchDate, 'REJECTED');
    return settled;
  }

  /** Moves a batch to the stage its files imply; conditional on the file states the decision was made from. */
  async function settleReceivingStage(seen: Batch, newData: boolean, attempts = 3): Promise<Batch> {
    const complete = allPersisted(seen);
    const key = batchKey(seen.client, seen.batch_date);
    let outcome: Written;
    if (complete && newData) {
      // New data for a complete batch starts a new generation: relationships and transformers run again.
      outcome = await startNewGeneration(seen);
    } else if (!complete) {
      const anyRejected = Object.values(seen.files).some((f) => f.status === 'REJECTED');
      // A batch the delivery check found late stays LATE until its files are in (late-deliveries.ts).
      const target: Stage = anyRejected ? 'REJECTED' : seen.stage === 'LATE' ? 'LATE' : 'RECEIVING';
      if (seen.stage === target) return seen;
      const s = stageSet(target);
      const from = stageIn('receive');
      const names: Record<string, string> = { '#status': 'status' };
      const values: Record<string, unknown> = { ...s.values, ...from.values };
      const checks = Object.entries(seen.files).map(([type, file], i) => {
        names[`#t${i}`] = type;
        values[`:s${i}`] = file.status;
        return `files.#t${i}.#status = :s${i}`;
      });
      outcome = await write({
        Key: key,
        UpdateExpression: `SET ${s.expr}`,
        ConditionExpression: [from.expr, ...checks].join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
    } else {
      return seen;
    }
    if ('written' in outcome) return outcome.written;
    // Someone else changed the batch between our read and write: decide again from what is there now.
    const fresh = outcome.stood;
    if (!fresh || attempts <= 1) throw new StaleStateError(`batch ${seen.client}/${seen.batch_date} kept changing`);
    return settleReceivingStage(fresh, newData && fresh.generation === seen.generation, attempts - 1);
  }

  /**
   * Sends a batch whose four files are in back to PERSISTED as a new generation, so the whole chain runs again and the
   * catapult re-publishes with a higher version. Conditional on the generation seen: the item as it stood if it moved on.
   */
  function startNewGeneration(seen: Batch): Promise<Written> {
    // From any stage (the declaration's `persist` and `new-generation`): no stage condition, the generation decides.
    const s = stageSet(toStage('persist'));
    const flags = FILE_TYPES.map((_, i) => `#p${i} = :true`).join(' AND ');
    return write({
      Key: batchKey(seen.client, seen.batch_date),
      UpdateExpression: `SET ${s.expr}, generation = generation + :one, relation_established = :false, transformers = :empty REMOVE required_transformers, data_quality, quality, events_published, failure`,
      ConditionExpression: `${flags} AND generation = :gen`,
      ExpressionAttributeNames: Object.fromEntries(FILE_TYPES.map((t, i) => [`#p${i}`, persistedFlag[t]])),
      ExpressionAttributeValues: { ...s.values, ':true': true, ':false': false, ':one': 1, ':empty': {}, ':gen': seen.generation },
    });
  }

  /**
   * A batch's results changed in a way later batches of the client build on (running totals): each later batch whose
   * four files are in starts a new generation, so it is computed again from the corrected figures and re-published.
   * Returns the batch dates sent round again.
   */
  async function rerunLaterBatches(client: string, batchDate: string): Promise<string[]> {
    const later = (await listClient(client)).batches.filter((b) => b.batch_date > batchDate && allPersisted(b));
    const rerun = await Promise.all(later.map(async (b) => ('written' in (await startNewGeneration(b)) ? [b.batch_date] : [])));
    await Promise.all(rerun.flat().map((date) => tracking?.batchStarted(client, date)));
    return rerun.flat().sort();
  }

  /** Records a file whose object key itself was invalid, so `status` and `run` can show why it was refused. */
  async function recordRejectedKey(rejected: { client: string; key: string; fileName: string; reason: string }): Promise<void> {
    const item: RejectedKey = {
      pk: `CLIENT#${rejected.client}`,
      sk: rejectedKeySk(rejected),
      client: rejected.client,
      key: rejected.key,
      file_name: rejected.fileName,
      stage: 'REJECTED',
      reason: rejected.reason,
      at: now(),
    };
    await dynamo.send(new PutCommand({ TableName: tableName, Item: { ...item, gsi1pk: 'STAGE#REJECTED', gsi1sk: `_#${rejected.client}#${rejected.fileName}` } }));
  }

  /**
   * The relationship transformer's result: relations established for this generation, with the transformers
   * registered right now as the ones this batch waits for.
   */
  async function establishRelations(batch: Batch, state: TransformerState, dataQuality: Record<string, number>, quality?: Quality): Promise<Batch | undefined> {
    const required = (await listRegistry()).filter((e) => e.required).map((e) => e.name);
    const step: Step = required.length ? 'relate' : 'relate-without-transformers';
    const s = stageSet(toStage(step));
    const from = stageIn(step);
    return update({
      Key: batchKey(batch.client, batch.batch_date),
      UpdateExpression: `SET ${s.expr}, relation_established = :true, transformers.relationship = :state, data_quality = :dq, required_transformers = :required${quality ? ', quality = :quality' : ''}`,
      ConditionExpression: `generation = :gen AND ${from.expr}`,
      ExpressionAttributeValues: {
        ...s.values,
        ...from.values,
        ':true': true,
        ':state': state,
        ':dq': dataQuality,
        ':required': required,
        ':gen': batch.generation,
        ...(quality ? { ':quality': quality } : {}),
      },
    });
  }

  /**
   * Records one transformer's outcome for a generation; when it is the last required one to finish,
   * moves the batch to TRANSFORMED in a second update conditional on every required status being DONE.
   * Returns undefined when the batch has moved on to another generation (the result is stale).
   */
  async function recordTransformer(batch: Batch, name: string, state: TransformerState, fingerprint?: string): Promise<Batch | undefined> {
    const key = batchKey(batch.client, batch.batch_date);
    const image = await update({
      Key: key,
      UpdateExpression: `SET transformers.#name = :state, updated_at = :now${fingerprint === undefined ? '' : ', fingerprints.#name = :fingerprint'}`,
      ConditionExpression: 'generation = :gen AND relation_established = :true',
      ExpressionAttributeNames: { '#name': name },
      ExpressionAttributeValues: { ':state': state, ':now': now(), ':gen': state.generation, ':true': true, ...(fingerprint === undefined ? {} : { ':fingerprint': fingerprint }) },
    });
    if (!image || state.status !== 'DONE') return image;
    const required = image.required_transformers ?? [];
    const done = (n: string) => image.transformers[n]?.status === 'DONE' && image.transformers[n]?.generation === image.generation;
    if (!fromStages('transform').includes(image.stage) || !required.every(done)) return image;
    const from = stageIn('transform');
    const s = stageSet(toStage('transform'));
    const names: Record<string, string> = { '#status': 'status', '#generation': 'generation' };
    const checks = required.map((n, i) => {
      names[`#r${i}`] = n;
      return `transformers.#r${i}.#status = :done AND transformers.#r${i}.#generation = :gen`;
    });
    return (
      (await update({
        Key: key,
        UpdateExpression: `SET ${s.expr}`,
        ConditionExpression: [from.expr, 'generation = :gen', ...checks].join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...s.values, ...from.values, ':gen': image.generation, ':done': 'DONE' },
      })) ?? image
    );
  }

  /** The catapult's last word: events published, batch COMPLETE. */
  async function markComplete(batch: Batch, eventsPublished: number): Promise<Batch | undefined> {
    const s = stageSet(toStage('publish'));
    const from = stageIn('publish');
    const next = await update({
      Key: batchKey(batch.client, batch.batch_date),
      UpdateExpression: `SET ${s.expr}, events_published = :count`,
      ConditionExpression: `generation = :gen AND ${from.expr}`,
      ExpressionAttributeValues: { ...s.values, ...from.values, ':count': eventsPublished, ':gen': batch.generation },
    });
    if (next) await tracking?.batchEnded(batch.client, batch.batch_date, 'COMPLETE');
    return next;
  }

  /** A step that cannot succeed for this generation fails the batch, with who and why (and the data-quality findings that failed it). */
  async function markFailed(batch: Batch, step: string, reason: string, findings?: { data_quality: Record<string, number>; quality: Quality }): Promise<Batch | undefined> {
    // From any stage (the declaration's `fail`): no stage condition, the generation decides.
    const s = stageSet(toStage('fail'));
    const next = await update({
      Key: batchKey(batch.client, batch.batch_date),
      UpdateExpression: `SET ${s.expr}, failure = :failure${findings ? ', data_quality = :dq, quality = :quality' : ''}`,
      ConditionExpression: 'generation = :gen',
      ExpressionAttributeValues: {
        ...s.values,
        ':failure': { step, reason, at: now() },
        ':gen': batch.generation,
        ...(findings ? { ':dq': findings.data_quality, ':quality': findings.quality } : {}),
      },
    });
    if (next) await tracking?.batchEnded(batch.client, batch.batch_date, 'FAILED', step);
    return next;
  }

  async function registerTransformer(name: string, required = true, contribution?: Contribution): Promise<void> {
    const entry: RegistryEntry = { name, required, registered_at: now(), ...(contribution ? { contribution } : {}) };
    await dynamo.send(new PutCommand({ TableName: tableName, Item: { pk: REGISTRY_PK, sk: `TRANSFORMER#${name}`, ...entry } }));
  }

  async function deregisterTransformer(name: string): Promise<void> {
    await dynamo.send(new DeleteCommand({ TableName: tableName, Key: { pk: REGISTRY_PK, sk: `TRANSFORMER#${name}` } }));
  }

  async function listRegistry(): Promise<RegistryEntry[]> {
    const items = await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': REGISTRY_PK }, ConsistentRead: true });
    return items.map((i) => RegistryEntry.parse(i));
  }

  /** Every item a query matches, page after page (a page ends at 1 MB). */
  async function queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Record<string, unknown>[]> {
    const items = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await dynamo.send(new QueryCommand({ ...input, TableName: tableName, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** A client's batches and rejected keys, newest first, optionally for one date. */
  async function listClient(client: string, batchDate?: string): Promise<{ batches: Batch[]; rejected: RejectedKey[] }> {
    const items = await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `CLIENT#${client}` }, ScanIndexForward: false, ConsistentRead: true });
    const batches = items
      .filter((i) => String(i.sk).startsWith('BATCH#'))
      .map((i) => Batch.parse(i))
      .filter((b) => !batchDate || b.batch_date === batchDate);
    const rejected = items.filter((i) => String(i.sk).startsWith('REJECTED#')).map((i) => RejectedKey.parse(i));
    return { batches, rejected };
  }

  /** Keys refused outright, of every client: the by-stage index holds them under STAGE#REJECTED, sorted `_#<client>#…`. */
  async function listRejectedKeys(): Promise<RejectedKey[]> {
    const items = await queryAll({
      IndexName: 'by-stage',
      KeyConditionExpression: 'gsi1pk = :g AND begins_with(gsi1sk, :keys)',
      ExpressionAttributeValues: { ':g': 'STAGE#REJECTED', ':keys': '_#' },
    });
    return items.filter((i) => String(i.sk).startsWith('REJECTED#')).map((i) => RejectedKey.parse(i));
  }

  /** Batches in any of the given stages. */
  async function listByStages(stages: readonly Stage[]): Promise<Batch[]> {
    return (await Promise.all(stages.map((s) => listByStage(s)))).flat();
  }

  /** Batches in one stage, through the by-stage index. */
  async function listByStage(stage: Stage): Promise<Batch[]> {
    const items = await queryAll({ IndexName: 'by-stage', KeyConditionExpression: 'gsi1pk = :g', ExpressionAttributeValues: { ':g': `STAGE#${stage}` } });
    return items.filter((i) => String(i.sk).startsWith('BATCH#')).map((i) => Batch.parse(i));
  }

  /**
   * Backfill: makes a batch whose relations are established wait for one more transformer. The batch returns to
   * RELATED with the transformer added to its required list, so the transformer's own stream filter picks it up and
   * the usual completion (TRANSFORMED, then the catapult) follows. Returns false when there was nothing to do: the
   * transformer is done for this generation, with the deployed version (`digest`, its registry entry's) when given.
   */
  async function reopenForTransformer(batch: Batch, name: string, digest?: string): Promise<boolean> {
    const state = batch.transformers[name];
    if (state?.status === 'DONE' && state.generation === batch.generation && (digest === undefined || state.digest === digest)) return false;
    const required = [...new Set([...(batch.required_transformers ?? []), name])];
    if (!fromStages('reopen').includes(batch.stage)) return false;
    const s = stageSet(toStage('reopen'));
    const next = await update({
      Key: batchKey(batch.client, batch.batch_date),
      // Its events go out again with the new transformer's figures, a version higher (eventVersion).
      UpdateExpression: `SET ${s.expr}, required_transformers = :required, republished = if_not_exists(republished, :zero) + :one REMOVE transformers.#name`,
      // The stage seen, which the declaration allows (checked above): a batch that moved on is decided again by the caller.
      ConditionExpression: 'generation = :gen AND stage = :seen AND relation_established = :true',
      ExpressionAttributeNames: { '#name': name },
      ExpressionAttributeValues: { ...s.values, ':required': required, ':gen': batch.generation, ':seen': batch.stage, ':true': true, ':zero': 0, ':one': 1 },
    });
    return next !== undefined;
  }

  /**
   * Redrive after a fix: re-triggers the step a failure item names, for the batch's current generation. A FAILED batch
   * was judged on this generation's data (a failed transformer stays failed for it), so it starts a new generation, as
   * a corrected upload does. Any other batch is written back with only `redriven_at` changed: the change feed
   * delivers it again and the step whose records gave up runs on the same generation, so its events keep their
   * version. 'superseded': a newer generation already runs every step again.
   */
  async function redriveBatch(client: string, batchDate: string, generation: number): Promise<'missing' | 'superseded' | 'new-generation' | 're-delivered'> {
    return redriveFrom(await getBatch(client, batchDate), generation, 3);
  }

  /** A write refused because the batch changed meanwhile decides again from the item its refusal returned. */
  async function redriveFrom(batch: Batch | undefined, generation: number, attempts: number): ReturnType<typeof redriveBatch> {
    if (!batch) return 'missing';
    if (batch.generation !== generation) return 'superseded';
    const outcome =
      batch.stage === 'FAILED'
        ? await startNewGeneration(batch)
        : await write({
            Key: batchKey(batch.client, batch.batch_date),
            UpdateExpression: 'SET redriven_at = :now, updated_at = :now',
            ConditionExpression: 'generation = :gen AND stage = :seen',
            ExpressionAttributeValues: { ':now': now(), ':gen': generation, ':seen': batch.stage },
          });
    if ('written' in outcome) return batch.stage === 'FAILED' ? 'new-generation' : 're-delivered';
    if (attempts <= 1) throw new StaleStateError(`batch ${batch.client}/${batch.batch_date} kept changing`);
    return redriveFrom(outcome.stood, generation, attempts - 1);
  }

  return {
    tableName,
    ...createFailureLog(dynamo, tableName),
    ...createControlStore(dynamo, tableName, { ensureBatch, getBatch }, tracking),
    ...createLateStore(dynamo, tableName, { ensureBatch }),
    redriveBatch,
    getBatch,
    recordFile,
    recordChunksDone,
    rerunLaterBatches,
    recordRejectedKey,
    establishRelations,
    recordTransformer,
    markComplete,
    markFailed,
    registerTransformer,
    deregisterTransformer,
    listRegistry,
    listClient,
    listRejectedKeys,
    listByStages,
    listByStage,
    reopenForTransformer,
  };
}
