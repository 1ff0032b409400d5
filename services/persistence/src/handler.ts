import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { z } from 'zod';
import { lambda } from '@dataharvest/shared/handler';
import { persistObject, type S3Object } from './persist-object';

const S3Event = z.object({
  Records: z.array(z.object({
    eventName: z.string().startsWith('ObjectCreated:'),
    s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string(), eTag: z.string().optional(), versionId: z.string().optional() }) }),
  })).min(1),
});

// Exactly once per object version: a duplicate S3 event is answered from the idempotency record, and a failed
// attempt leaves no record, so the platform's retry loads the file.
const config = new IdempotencyConfig({ throwOnNoIdempotencyKey: true, expiresAfterSeconds: 7 * 24 * 3600 });
const persistOnce = makeIdempotent(persistObject, {
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: process.env.IDEMPOTENCY_TABLE ?? 'dataharvest-idempotency' }),
  config,
});

/** S3 keys arrive URL-encoded, with '+' for spaces. */
const decodeKey = (key: string) => decodeURIComponent(key.replaceAll('+', ' '));

export const handler = lambda(async (event: unknown, context) => {
  const { Records } = S3Event.parse(event);
  config.registerLambdaContext(context);
  const outcomes = [];
  for (const record of Records) {
    const object: S3Object = { bucket: record.s3.bucket.name, key: decodeKey(record.s3.object.key), etag: record.s3.object.versionId ?? record.s3.object.eTag ?? '' };
    outcomes.push(await persistOnce(object));
  }
  return outcomes;
});
