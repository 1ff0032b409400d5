import type { S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { z } from 'zod';
import { ERASURE_PK, type ErasureCounts, type ErasureRequest } from '@dataharvest/events/erasure';
import { parseObjectKey } from '@dataharvest/events/object-key';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { fromEnvironment } from '@dataharvest/shared/environment';
import { createErasures, type Erasures } from '@dataharvest/shared/erasures';
import { failedRecordAt } from '@dataharvest/shared/failures';
import { handleInOrder } from '@dataharvest/shared/batch-response';
import { builtOnFirstEvent, lambda } from '@dataharvest/shared/handler';
import { SingleCopyEnv } from '@dataharvest/shared/load/multipart';
import { logger } from '@dataharvest/shared/logger';
import type { Database } from '@dataharvest/shared/pg';
import { safeError } from '@dataharvest/shared/safe-error';
import { eraseObjects, type RewrittenArchive, referenceInObjects } from './erase-objects';
import { eraseTables } from './erase-tables';
import { ErasureIncompleteError } from './not-erased';
import { type Person, personOf, referenceOf } from './person';

export interface PrivacyDeps {
  erasures: Erasures;
  database: Database;
  s3: S3Client;
  bucket: string;
  /** Objects above this many bytes are rewritten in parts (S3's 5 GiB when not given). */
  copyLimit?: number;
}

const requestOf = (record: KinesisStreamRecord) => {
  const change = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as { dynamodb: { NewImage?: Record<string, never> } };
  const image = change.dynamodb.NewImage ? unmarshall(change.dynamodb.NewImage) : undefined;
  return image?.pk === ERASURE_PK ? String(image.sk) : undefined;
};

/**
 * Erases one person: the settled objects, then the tables (one transaction), then the outcome on the request. The
 * tables go last because they are what finds the person in the objects (their portfolios, accounts and names): when
 * an object cannot be erased, every other one is, the tables are kept and the attempt fails with the objects named
 * (ErasureIncompleteError), so that its retry, or a redrive once the object is readable, knows the person as well as
 * the first attempt did. Every part deletes or rewrites only what still holds the person, so a retry or a replayed
 * request redoes nothing that was done; the request is settled once. The person is known to it by a salted hash: the
 * reference is found in the data itself, and neither it nor any value of theirs is logged.
 */
export async function erase({ erasures, database, s3, bucket, copyLimit }: PrivacyDeps, request: ErasureRequest): Promise<ErasureCounts> {
  await database.ensureSchema(BASE_TABLES_DDL);
  const inTables = await database.inTransaction(async (db) => {
    const reference = await referenceOf(db, request.salt, request.reference_hash);
    return reference ? await personOf(db, reference) : undefined;
  });
  const inObjects = inTables ? undefined : await referenceInObjects(s3, bucket, request.salt, request.reference_hash);
  const person: Person | undefined = inTables ?? (inObjects?.reference ? { reference: inObjects.reference, holdings: [], names: [] } : undefined);
  const objects = person ? await eraseObjects(s3, bucket, person, copyLimit) : { rewritten: {}, archives: [], notErased: [] };
  // Before anything can fail the attempt: a retry finds these files erased and rewrites, so marks, nothing.
  for (const archive of objects.archives) await markRewritten(erasures, archive, request.sk);
  const notErased = [...(inObjects?.unread ?? []), ...objects.notErased];
  if (notErased.length) throw new ErasureIncompleteError(notErased);
  const rows = inTables ? await database.inTransaction((db) => eraseTables(db, inTables)) : {};
  const counts: ErasureCounts = { found: person !== undefined, rows, objects: objects.rewritten };
  await erasures.settle(request.sk, counts);
  return counts;
}

/** Marks the batch file an archive holds as rewritten, for its lineage (an archive under an unsafe key names none). */
async function markRewritten(erasures: Erasures, archive: RewrittenArchive, sk: string): Promise<void> {
  const file = parseObjectKey(archive.key.replace(/^archive\//, 'incoming/'));
  if (file.ok) await erasures.recordRewrite(file, archive, sk);
}

/**
 * Records a failed attempt on the request's failure item: `dataharvest failures` maps the on-failure message to it,
 * `forget` reports it once the retries ran out (FAILED). Failing to record must not hide the failure itself: the
 * platform retries the record anyway.
 */
async function recordFailure(erasures: Erasures, sk: string, error: unknown, record: KinesisStreamRecord): Promise<void> {
  const { name, message } = safeError(error);
  const notErased = error instanceof ErasureIncompleteError ? error.notErased : [];
  try {
    const request = await erasures.recordFailure(sk, { reason: `${name}: ${message}`, notErased }, failedRecordAt(record));
    if (request?.status === 'FAILED') logger.error('erasure gave up', { request: sk, not_erased: notErased.length });
  } catch (recordError) {
    logger.error('could not record the erasure failure', { error: safeError(recordError) });
  }
}

export const createHandler = (deps: PrivacyDeps) =>
  lambda(
    async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> =>
      handleInOrder(event.Records, async (record) => {
        let sk: string | undefined;
        try {
          sk = requestOf(record);
          const request = sk ? await deps.erasures.get(sk) : undefined;
          if (request?.status !== 'REQUESTED') return;
          const counts = await erase(deps, request);
          logger.info('erasure done', { request: request.sk, ...counts });
        } catch (error) {
          logger.error('erasure failed', { error: safeError(error) });
          if (sk) await recordFailure(deps.erasures, sk, error, record);
          throw error;
        }
      }),
  );

export const handler = builtOnFirstEvent(() => {
  const { config, aws, database } = fromEnvironment(process.env, { INGEST_BUCKET: z.string().min(1), ...SingleCopyEnv });
  return createHandler({ erasures: createErasures(aws.dynamo, config.METASTORE_TABLE), database, s3: aws.s3, bucket: config.INGEST_BUCKET, copyLimit: config.SINGLE_COPY_LIMIT });
});
