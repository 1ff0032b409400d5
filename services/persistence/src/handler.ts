import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { z } from 'zod';
import { readConfig } from '@dataharvest/shared/config';
import { lambda } from '@dataharvest/shared/handler';
import { persistObject, type Outcome, type S3Object } from './persist-object';

const S3Event = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.string().startsWith('ObjectCreated:'),
        s3: z.object({
          bucket: z.object({ name: z.string().min(1) }),
          object: z.object({ key: z.string().min(1), eTag: z.string().optional(), versionId: z.string().optional(), sequencer: z.string().optional() }),
        }),
      }),
    )
    .min(1),
});

/** S3 event keys are URL-encoded, with '+' for a space. */
export const decodeKey = (key: string) => decodeURIComponent(key.replaceAll('+', ' '));

const config = new IdempotencyConfig({ throwOnNoIdempotencyKey: true, expiresAfterSeconds: 7 * 24 * 3600 });
let persistOnce: ((object: S3Object) => Promise<Outcome>) | undefined;

/**
 * Exactly once per upload: the idempotency record (keyed on bucket, key, version or ETag, and the event's sequencer,
 * which a duplicate delivery repeats and a new upload changes) answers a duplicate event with the first outcome; a
 * failed attempt leaves no record, so the platform's retry loads the file.
 */
function idempotentPersist() {
  const env = readConfig({ IDEMPOTENCY_TABLE: z.string().min(1) });
  persistOnce ??= makeIdempotent(persistObject, { persistenceStore: new DynamoDBPersistenceLayer({ tableName: env.IDEMPOTENCY_TABLE }), config });
  return persistOnce;
}

export const handler = lambda(async (event: unknown, context) => {
  const { Records } = S3Event.parse(event);
  config.registerLambdaContext(context);
  const persist = idempotentPersist();
  const outcomes: Outcome[] = [];
  for (const { s3 } of Records) {
    const version = s3.object.versionId ?? s3.object.eTag ?? '';
    outcomes.push(await persist({ bucket: s3.bucket.name, key: decodeKey(s3.object.key), etag: version, sequencer: s3.object.sequencer }));
  }
  return outcomes;
});
