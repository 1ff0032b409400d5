import type { S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { z } from 'zod';
import { ERASURE_PK, type ErasureCounts, type ErasureRequest } from '@dataharvest/events/erasure';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { fromEnvironment } from '@dataharvest/shared/environment';
import { createErasures, type Erasures } from '@dataharvest/shared/erasures';
import { builtOnFirstEvent, lambda } from '@dataharvest/shared/handler';
import { SingleCopyEnv } from '@dataharvest/shared/load/multipart';
import { logger } from '@dataharvest/shared/logger';
import type { Database } from '@dataharvest/shared/pg';
import { safeError } from '@dataharvest/shared/safe-error';
import { eraseObjects, referenceInObjects } from './erase-objects';
import { eraseTables } from './erase-tables';
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
 * Erases one person: the tables first (one transaction), then the settled objects, then the outcome on the request.
 * Every part deletes or rewrites only what still holds the person, so a retry or a replayed request redoes nothing
 * that was done; the request is settled once. The person is known to it by a salted hash: the reference is found in
 * the data itself, and neither it nor any value of theirs is logged.
 */
export async function erase({ erasures, database, s3, bucket, copyLimit }: PrivacyDeps, request: ErasureRequest): Promise<ErasureCounts> {
  await database.ensureSchema(BASE_TABLES_DDL);
  const inTables = await database.inTransaction(async (db) => {
    const reference = await referenceOf(db, request.salt, request.reference_hash);
    if (!reference) return undefined;
    const person = await personOf(db, reference);
    return { person, rows: await eraseTables(db, person) };
  });
  const reference = inTables ? undefined : await referenceInObjects(s3, bucket, request.salt, request.reference_hash);
  const person: Person | undefined = inTables?.person ?? (reference ? { reference, holdings: [], names: [] } : undefined);
  const counts: ErasureCounts = { found: person !== undefined, rows: inTables?.rows ?? {}, objects: person ? await eraseObjects(s3, bucket, person, copyLimit) : {} };
  await erasures.settle(request.sk, counts);
  return counts;
}

export const createHandler = (deps: PrivacyDeps) =>
  lambda(async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    for (const [i, record] of event.Records.entries()) {
      try {
        const sk = requestOf(record);
        const request = sk ? await deps.erasures.get(sk) : undefined;
        if (request?.status !== 'REQUESTED') continue;
        const counts = await erase(deps, request);
        logger.info('erasure done', { request: request.sk, ...counts });
      } catch (error) {
        logger.error('erasure failed', { error: safeError(error) });
        return { batchItemFailures: event.Records.slice(i).map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })) };
      }
    }
    return { batchItemFailures: [] };
  });

export const handler = builtOnFirstEvent(() => {
  const { config, aws, database } = fromEnvironment(process.env, { INGEST_BUCKET: z.string().min(1), ...SingleCopyEnv });
  return createHandler({ erasures: createErasures(aws.dynamo, config.METASTORE_TABLE), database, s3: aws.s3, bucket: config.INGEST_BUCKET, copyLimit: config.SINGLE_COPY_LIMIT });
});
