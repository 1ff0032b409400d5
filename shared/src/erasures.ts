import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ERASURE_FAILURE_PK, ERASURE_PK, type ErasureCounts, ErasureFailure, ErasureRequest, erasureRequest, type NotErased } from '@dataharvest/events/erasure';
import type { FileDetail, FileType } from '@dataharvest/events/batch';
import type { FailedRecordAt } from './failures';
import { batchKey } from './metastore';

export type Erasures = ReturnType<typeof createErasures>;

/** The privacy mapping's maximumRetryAttempts (services/privacy/serverless.yml): a record failed once more gave up. */
export const ERASURE_RETRY_ATTEMPTS = 5;

/** Sequence numbers kept per request: enough to map each of its on-failure messages back to it. */
const MAX_SEQUENCE_NUMBERS = 20;

/** A failure item stays small: a reason this long, this many objects not erased (with their count in the reason). */
const MAX_REASON = 1000;
const MAX_NOT_ERASED = 100;

/**
 * Erasure requests in the metastore (events/src/erasure.ts): written by `dataharvest forget`, carried out by the
 * privacy service, which records the outcome on the request with one conditional update.
 */
export function createErasures(dynamo: DynamoDBDocumentClient, tableName: string) {
  const key = (sk: string) => ({ pk: ERASURE_PK, sk });

  /** A new request for the reference; the item holds its salted hash only. */
  async function request(reference: string): Promise<ErasureRequest> {
    const item = erasureRequest(reference);
    await dynamo.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    return item;
  }

  async function get(sk: string): Promise<ErasureRequest | undefined> {
    const { Item } = await dynamo.send(new GetCommand({ TableName: tableName, Key: key(sk), ConsistentRead: true }));
    return Item ? ErasureRequest.parse(Item) : undefined;
  }

  /** Records the outcome once: a replayed request finds it settled and changes nothing (false). */
  async function settle(sk: string, counts: ErasureCounts): Promise<boolean> {
    try {
      await dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(sk),
          UpdateExpression: 'SET #status = :done, done_at = :at, counts = :counts REMOVE failed_at',
          ConditionExpression: '#status = :requested',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':done': 'DONE', ':at': new Date().toISOString(), ':requested': 'REQUESTED', ':counts': counts },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The failure item of a request, when an attempt of it failed. */
  async function getFailure(sk: string): Promise<ErasureFailure | undefined> {
    const { Item } = await dynamo.send(new GetCommand({ TableName: tableName, Key: { pk: ERASURE_FAILURE_PK, sk }, ConsistentRead: true }));
    return Item ? ErasureFailure.parse(Item) : undefined;
  }

  /**
   * Records a failed attempt of a REQUESTED request on its failure item, with what it could not erase. Past the
   * mapping's retries of one change-feed record the request becomes FAILED: done with, and `forget` reports it.
   * Returns the request as it is now.
   */
  async function recordFailure(sk: string, failed: { reason: string; notErased: NotErased[] }, at: FailedRecordAt): Promise<ErasureRequest | undefined> {
    const request = await get(sk);
    if (request?.status !== 'REQUESTED') return request;
    const seen = new Date().toISOString();
    const last = await getFailure(sk);
    const recordAttempts = last?.sequence_number === at.sequenceNumber ? last.record_attempts + 1 : 1;
    const failure: ErasureFailure = {
      pk: ERASURE_FAILURE_PK,
      sk,
      reason: failed.reason.slice(0, MAX_REASON),
      not_erased: failed.notErased.slice(0, MAX_NOT_ERASED),
      attempts: (last?.attempts ?? 0) + 1,
      first_seen: last?.first_seen ?? seen,
      last_seen: seen,
      shard_id: at.shardId,
      sequence_number: at.sequenceNumber,
      record_attempts: recordAttempts,
      sequence_numbers: [...new Set([...(last?.sequence_numbers ?? []), at.sequenceNumber])].slice(-MAX_SEQUENCE_NUMBERS),
    };
    // One erasure runs at a time (the function's reserved concurrency): a plain write, an UpdateItem as the role allows.
    const fields = Object.entries(failure).filter(([name]) => name !== 'pk' && name !== 'sk');
    await dynamo.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: ERASURE_FAILURE_PK, sk },
        UpdateExpression: `SET ${fields.map((_, i) => `#n${i} = :v${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(fields.map(([name], i) => [`#n${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(fields.map(([, value], i) => [`:v${i}`, value])),
      }),
    );
    if (recordAttempts <= ERASURE_RETRY_ATTEMPTS) return request;
    try {
      const { Attributes } = await dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(sk),
          UpdateExpression: 'SET #status = :failed, failed_at = :at',
          ConditionExpression: '#status = :requested',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':failed': 'FAILED', ':at': seen, ':requested': 'REQUESTED' },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return ErasureRequest.parse(Attributes);
    } catch (error) {
      // Settled meanwhile: the request as it stands, from the refusal itself (the document client does not unmarshall it).
      if (error instanceof ConditionalCheckFailedException) return error.Item && ErasureRequest.parse(unmarshall(error.Item));
      throw error;
    }
  }

  /** The failure items of every request one of whose attempts failed: one query. */
  async function listFailures(): Promise<ErasureFailure[]> {
    const items: ErasureFailure[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await dynamo.send(
        new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': ERASURE_FAILURE_PK }, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      items.push(...(out.Items ?? []).map((i) => ErasureFailure.parse(i)));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /**
   * Sends a request that is not DONE round again (`dataharvest redrive`): REQUESTED once more, which the change feed
   * delivers to the privacy service on a new record. False when it was DONE meanwhile, or is gone.
   */
  async function redrive(sk: string): Promise<boolean> {
    try {
      await dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(sk),
          UpdateExpression: 'SET #status = :requested, redriven_at = :at REMOVE failed_at',
          ConditionExpression: 'attribute_exists(pk) AND #status <> :done',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':requested': 'REQUESTED', ':done': 'DONE', ':at': new Date().toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Every request, oldest first: the record of erasures. */
  async function list(): Promise<ErasureRequest[]> {
    const items: ErasureRequest[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await dynamo.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': ERASURE_PK }, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []).map((i) => ErasureRequest.parse(i)));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /**
   * Marks a loaded file's record as rewritten by the request (docs/lineage.md): `sha256` stays the upload's, and the
   * mark names the bytes the erasure left. Only while the record names the bytes the erasure read (the upload's, or
   * what the last erasure left): a file uploaded anew since, or one this request marked already, is left as it is.
   */
  async function recordRewrite(file: { client: string; batchDate: string; type: FileType }, digests: { sha256Before: string; sha256: string }, sk: string): Promise<boolean> {
    const Key = batchKey(file.client, file.batchDate);
    const names = { '#type': file.type };
    const { Item } = await dynamo.send(new GetCommand({ TableName: tableName, Key, ConsistentRead: true, ProjectionExpression: 'files.#type', ExpressionAttributeNames: names }));
    const detail = (Item?.files as Record<string, FileDetail> | undefined)?.[file.type];
    const marks = detail?.erasures ?? [];
    if (!detail?.sha256 || (marks.at(-1)?.sha256 ?? detail.sha256) !== digests.sha256Before || marks.some((m) => m.request === sk)) return false;
    try {
      await dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key,
          UpdateExpression: 'SET files.#type.erasures = :marks',
          // No upload and no other erasure came in between.
          ConditionExpression: `files.#type.sha256 = :upload AND ${marks.length ? 'size(files.#type.erasures) = :count' : 'attribute_not_exists(files.#type.erasures)'}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':marks': [...marks, { request: sk, at: new Date().toISOString(), sha256: digests.sha256 }],
            ':upload': detail.sha256,
            ...(marks.length ? { ':count': marks.length } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  return { request, get, settle, getFailure, recordFailure, listFailures, redrive, list, recordRewrite };
}
