import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DISCARD_PK, DiscardRecord, discardRecord } from '@dataharvest/events/discard';

/** The record of discarded on-failure messages in the metastore (events/src/discard.ts), written by the CLI. */
export function createDiscards(dynamo: DynamoDBDocumentClient, tableName: string) {
  async function record(fields: Parameters<typeof discardRecord>[0]): Promise<DiscardRecord> {
    const item = discardRecord(fields);
    await dynamo.send(new PutCommand({ TableName: tableName, Item: item }));
    return item;
  }

  /** Every discard, oldest first. */
  async function list(): Promise<DiscardRecord[]> {
    const items: DiscardRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await dynamo.send(
        new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': DISCARD_PK }, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      items.push(...(out.Items ?? []).map((i) => DiscardRecord.parse(i)));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  return { record, list };
}
