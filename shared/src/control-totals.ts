import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { type Batch, FILE_TYPES, type FileDetail, type FileType, persistedFlag } from '@dataharvest/events/batch';
import { type ControlDetail, reconcile } from '@dataharvest/events/control';
import { toStage } from '@dataharvest/events/state-machine';
import type { ClientTracking } from './client-tracking';

const now = () => new Date().toISOString();

/** A file refused by reconciliation: its type, its upload's key and the reason (figures only). */
export interface RefusedFile {
  type: FileType;
  key: string;
  reason: string;
}

/**
 * The metastore's part in control totals (docs/persistence.md): the batch's control file, and each loaded file's
 * reconciliation with it. Every write is conditional on the control file and the file upload it was decided from, so
 * two reconcilers (the control file's and a data file's, whichever arrived first) decide alike and write once.
 */
export function createControlStore(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  batches: { ensureBatch(client: string, batchDate: string): Promise<Batch | undefined>; getBatch(client: string, batchDate: string): Promise<Batch | undefined> },
  tracking?: ClientTracking,
) {
  const key = (client: string, batchDate: string) => ({ pk: `CLIENT#${client}`, sk: `BATCH#${batchDate}` });

  async function update(input: Omit<UpdateCommandInput, 'TableName' | 'ReturnValues'>): Promise<Batch | undefined> {
    try {
      return (await dynamo.send(new UpdateCommand({ ...input, TableName: tableName, ReturnValues: 'ALL_NEW' }))).Attributes as Batch;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Records the batch's control file (the batch is created if it is new); the same upload recorded again changes nothing. */
  async function recordControl(client: string, batchDate: string, control: ControlDetail): Promise<void> {
    await batches.ensureBatch(client, batchDate);
    await update({
      Key: key(client, batchDate),
      UpdateExpression: 'SET #control = :control, updated_at = :now',
      ConditionExpression: 'NOT (#control.etag = :etag AND #control.#status = :status)',
      ExpressionAttributeNames: { '#control': 'control', '#status': 'status' },
      ExpressionAttributeValues: { ':control': control, ':now': now(), ':etag': control.etag, ':status': control.status },
    });
  }

  /**
   * Reconciles every loaded file of the batch not yet reconciled with its current control file, and answers the files
   * it refused. A write that finds the batch changed (a newer upload, a newer control file) decides again from what is
   * there now.
   */
  async function reconcileBatch(client: string, batchDate: string, attempts = 3): Promise<RefusedFile[]> {
    const batch = await batches.getBatch(client, batchDate);
    const control = batch?.control;
    if (!batch || control?.status !== 'RECEIVED' || !control.lines) return [];
    const refused: RefusedFile[] = [];
    for (const type of FILE_TYPES) {
      const file = batch.files[type];
      const line = control.lines[type];
      if (!file || !line || file.status !== 'PERSISTED' || file.control?.control === control.etag) continue;
      const decided = reconcile(line, file);
      const at = now();
      const written =
        decided.outcome === 'MATCH'
          ? await recordMatch(batch, type, file, { control: control.etag, outcome: 'MATCH', at, ...(decided.note ? { note: decided.note } : {}) })
          : await refuse(batch, type, file, decided.reason, at);
      if (!written) {
        if (attempts <= 1) throw new Error(`batch ${client}/${batchDate} kept changing while it was reconciled`);
        return [...refused, ...(await reconcileBatch(client, batchDate, attempts - 1))];
      }
      if (decided.outcome === 'MISMATCH') refused.push({ type, key: file.key, reason: decided.reason });
    }
    return refused;
  }

  /** The condition that the file and the control file are still the ones the decision was made from. */
  const decidedFrom = (batch: Batch, type: FileType, file: FileDetail) => ({
    expr: 'files.#t.etag = :etag AND files.#t.#status = :persisted AND #control.etag = :control',
    names: { '#t': type, '#status': 'status', '#control': 'control' },
    values: { ':etag': file.etag ?? '', ':persisted': 'PERSISTED', ':control': batch.control!.etag },
  });

  function recordMatch(batch: Batch, type: FileType, file: FileDetail, reconciliation: FileDetail['control']) {
    const seen = decidedFrom(batch, type, file);
    return update({
      Key: key(batch.client, batch.batch_date),
      UpdateExpression: 'SET files.#t.#control = :rec, updated_at = :now',
      ConditionExpression: seen.expr,
      ExpressionAttributeNames: seen.names,
      ExpressionAttributeValues: { ...seen.values, ':rec': reconciliation, ':now': now() },
    });
  }

  /**
   * Refuses a loaded file that does not match: REJECTED with the reason, its persisted flag cleared (its rows stay in
   * the slice until a corrected upload replaces them, and the batch cannot relate on them), and the batch REJECTED
   * (the declaration's `refuse`, from any stage).
   */
  async function refuse(batch: Batch, type: FileType, file: FileDetail, reason: string, at: string) {
    const seen = decidedFrom(batch, type, file);
    const detail: FileDetail = { ...file, status: 'REJECTED', reason, errors: [{ line: 1, reason }], error_count: 1, at, control: { control: batch.control!.etag, outcome: 'MISMATCH', at } };
    const stage = toStage('refuse');
    const history = batch.stage === stage ? '' : ', stage = :stage, gsi1pk = :gsi, stage_history = list_append(if_not_exists(stage_history, :none), :entered)';
    const next = await update({
      Key: key(batch.client, batch.batch_date),
      UpdateExpression: `SET files.#t = :detail, #flag = :false, updated_at = :now${history}`,
      ConditionExpression: `${seen.expr} AND stage = :seen`,
      ExpressionAttributeNames: { ...seen.names, '#flag': persistedFlag[type] },
      ExpressionAttributeValues: {
        ...seen.values,
        ':detail': detail,
        ':false': false,
        ':now': at,
        ':seen': batch.stage,
        ...(history ? { ':stage': stage, ':gsi': `STAGE#${stage}`, ':none': [], ':entered': [{ stage, at }] } : {}),
      },
    });
    if (next) {
      await tracking?.fileSettled(batch.client, batch.batch_date, type, detail);
      if (history) await tracking?.batchEnded(batch.client, batch.batch_date, 'REJECTED');
    }
    return next;
  }

  return { recordControl, reconcileBatch };
}
