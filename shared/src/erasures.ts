import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ERASURE_PK, type ErasureCounts, ErasureRequest, erasureRequest } from '@dataharvest/events/erasure';

export type Erasures = ReturnType<typeof createErasures>;

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
          UpdateExpression: 'SET #status = :done, done_at = :at, counts = :counts',
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

  return { request, get, settle, list };
}
