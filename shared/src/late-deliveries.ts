import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { type Batch, FILE_TYPES, type FileType, persistedFlag } from '@dataharvest/events/batch';
import { fromStages, toStage } from '@dataharvest/events/state-machine';

export type Lateness = NonNullable<Batch['late']>;

/** What the delivery check found missing, as the batch item keeps it: file types absent, and the control file. */
export interface Absent {
  files: FileType[];
  control: boolean;
}

/**
 * The delivery check's writes to the metastore (services/delivery): a batch whose client's cut-off passed with files
 * owed becomes LATE, its `late` naming them. A file arriving afterwards is received as usual (metastore.ts keeps a
 * LATE batch LATE until its files are in); `late` stays, the record of the lateness. A batch whose four files are in
 * but whose owed control file is not is LATE too, until the control file arrives (`resumeLate`).
 */
export function createLateStore(dynamo: DynamoDBDocumentClient, tableName: string, batches: { ensureBatch(client: string, batchDate: string): Promise<unknown> }) {
  const key = (client: string, batchDate: string) => ({ pk: `CLIENT#${client}`, sk: `BATCH#${batchDate}` });

  async function update(input: Omit<UpdateCommandInput, 'TableName' | 'ReturnValues'>): Promise<Batch | undefined> {
    try {
      return (await dynamo.send(new UpdateCommand({ ...input, TableName: tableName, ReturnValues: 'ALL_NEW' }))).Attributes as Batch;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Enters `stage` for `step`, conditional on a stage it moves from and on `condition`. */
  const enter = (
    client: string,
    batchDate: string,
    step: 'late' | 'resume',
    at: string,
    input: { set?: string; condition: string; names?: Record<string, string>; values?: Record<string, unknown> },
  ) => {
    const stage = toStage(step);
    const from = fromStages(step);
    return update({
      Key: key(client, batchDate),
      UpdateExpression: `SET stage = :stage, gsi1pk = :gsi, updated_at = :at, stage_history = list_append(if_not_exists(stage_history, :none), :entered)${input.set ?? ''}`,
      ConditionExpression: `stage IN (${from.map((_, i) => `:from${i}`).join(', ')}) AND ${input.condition}`,
      ...(input.names ? { ExpressionAttributeNames: input.names } : {}),
      ExpressionAttributeValues: {
        ':stage': stage,
        ':gsi': `STAGE#${stage}`,
        ':at': at,
        ':none': [],
        ':entered': [{ stage, at }],
        ...Object.fromEntries(from.map((s, i) => [`:from${i}`, s])),
        ...input.values,
      },
    });
  };

  /**
   * Creates the batch when no file started it; conditional on a stage the `late` step moves from, on no earlier
   * finding, and on what was missing still being missing (a file that slipped in since is no lateness), so a repeated
   * or overtaken check records nothing (undefined).
   */
  async function markLate(client: string, batchDate: string, late: Lateness, absent: Absent): Promise<Batch | undefined> {
    await batches.ensureBatch(client, batchDate);
    const names: Record<string, string> = Object.fromEntries(absent.files.map((type, i) => [`#a${i}`, type]));
    if (absent.control) names['#control'] = 'control';
    return enter(client, batchDate, 'late', late.at, {
      set: ', late = :late',
      condition: ['attribute_not_exists(late)', ...absent.files.map((_, i) => `attribute_not_exists(files.#a${i})`), ...(absent.control ? ['attribute_not_exists(#control)'] : [])].join(' AND '),
      ...(Object.keys(names).length ? { names } : {}),
      values: { ':late': late },
    });
  }

  /** A LATE batch whose four files are in takes up its chain once its owed control file is recorded: PERSISTED again. */
  function resumeLate(client: string, batchDate: string): Promise<Batch | undefined> {
    const flags = FILE_TYPES.map((type) => persistedFlag[type]);
    return enter(client, batchDate, 'resume', new Date().toISOString(), {
      condition: [...flags.map((_, i) => `#f${i} = :true`), '#control.#status = :received'].join(' AND '),
      names: { ...Object.fromEntries(flags.map((flag, i) => [`#f${i}`, flag])), '#control': 'control', '#status': 'status' },
      values: { ':true': true, ':received': 'RECEIVED' },
    });
  }

  return { markLate, resumeLate };
}
