import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Batch } from '@dataharvest/events/batch';
import { fromStages, toStage } from '@dataharvest/events/state-machine';

export type Lateness = NonNullable<Batch['late']>;

/**
 * The delivery check's writes to the metastore (services/delivery): a batch whose client's cut-off passed with files
 * owed becomes LATE, its `late` naming them. A file arriving afterwards is received as usual (metastore.ts keeps a
 * LATE batch LATE until its files are in); `late` stays, the record of the lateness.
 */
export function createLateStore(dynamo: DynamoDBDocumentClient, tableName: string, batches: { ensureBatch(client: string, batchDate: string): Promise<unknown> }) {
  /**
   * Creates the batch when no file started it; conditional on a stage the `late` step moves from and on no earlier
   * finding, so a repeated check records nothing new (undefined).
   */
  async function markLate(client: string, batchDate: string, late: Lateness): Promise<Batch | undefined> {
    await batches.ensureBatch(client, batchDate);
    const stage = toStage('late');
    const from = fromStages('late');
    try {
      const out = await dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: `CLIENT#${client}`, sk: `BATCH#${batchDate}` },
          UpdateExpression: 'SET stage = :stage, gsi1pk = :gsi, updated_at = :at, late = :late, stage_history = list_append(if_not_exists(stage_history, :none), :entered)',
          ConditionExpression: `stage IN (${from.map((_, i) => `:from${i}`).join(', ')}) AND attribute_not_exists(late)`,
          ExpressionAttributeValues: {
            ':stage': stage,
            ':gsi': `STAGE#${stage}`,
            ':at': late.at,
            ':late': late,
            ':none': [],
            ':entered': [{ stage, at: late.at }],
            ...Object.fromEntries(from.map((s, i) => [`:from${i}`, s])),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as Batch;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
  return { markLate };
}
