import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { z } from 'zod';
import { isOwnObject } from '@dataharvest/events/object-key';
import { awsClients } from '@dataharvest/shared/aws';
import { ClientTrackingEnv } from '@dataharvest/shared/client-tracking';
import { fromEnvironment } from '@dataharvest/shared/environment';
import { builtOnFirstEvent, lambda } from '@dataharvest/shared/handler';
import { type Outcome, parseClientList, type PersistDeps, persistObject, type S3Object } from './persist-object';

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

export interface PersistenceDeps extends PersistDeps {
  /** Where the idempotency records are kept. */
  idempotencyStore: BasePersistenceLayer;
}

/**
 * Exactly once per upload: the idempotency record (keyed on bucket, key, version or ETag, and the event's sequencer,
 * which a duplicate delivery repeats and a new upload changes) answers a duplicate event with the first outcome; a
 * failed attempt leaves no record, so the platform's retry loads the file.
 */
export function createHandler({ idempotencyStore, ...deps }: PersistenceDeps) {
  const config = new IdempotencyConfig({ throwOnNoIdempotencyKey: true, expiresAfterSeconds: 7 * 24 * 3600 });
  const persist = makeIdempotent((object: S3Object) => persistObject(deps, object), { persistenceStore: idempotencyStore, config });
  return lambda(async (event: unknown, context) => {
    const { Records } = S3Event.parse(event);
    config.registerLambdaContext(context);
    const outcomes: Outcome[] = [];
    for (const { s3 } of Records) {
      const key = decodeKey(s3.object.key);
      // The bucket notifies of every new object, persistence's own archive/, errors/… writes included.
      if (isOwnObject(key)) {
        outcomes.push({ status: 'IGNORED', rows: 0 });
        continue;
      }
      const version = s3.object.versionId ?? s3.object.eTag ?? '';
      outcomes.push(await persist({ bucket: s3.bucket.name, key, etag: version, sequencer: s3.object.sequencer }));
    }
    return outcomes;
  });
}

export const handler = builtOnFirstEvent(() => {
  const env = process.env;
  // The local cloud's S3 (AWS_ENDPOINT_URL_S3, which only it sets) addresses buckets by path, not by host name.
  const { config, aws, ...deps } = fromEnvironment(
    env,
    {
      ...ClientTrackingEnv,
      IDEMPOTENCY_TABLE: z.string().min(1),
      LENIENT_CLIENTS: z.string().default(''),
      CHUNK_SIZE: z.coerce.number().int().min(1024),
      CHUNK_STREAM: z.string().min(1),
      CHUNK_LANES: z.coerce.number().int().positive(),
    },
    awsClients({ endpoints: { s3: env.AWS_ENDPOINT_URL_S3 } }),
  );
  return createHandler({
    ...deps,
    s3: aws.s3,
    kinesis: aws.kinesis,
    chunking: { chunkSize: config.CHUNK_SIZE, stream: config.CHUNK_STREAM, lanes: config.CHUNK_LANES },
    lenientClients: parseClientList(config.LENIENT_CLIENTS),
    idempotencyStore: new DynamoDBPersistenceLayer({ tableName: config.IDEMPOTENCY_TABLE }),
  });
});
