import { z } from 'zod';
import { isOwnObject } from '@dataharvest/events/object-key';
import { awsClients } from '@dataharvest/shared/aws';
import { ClientTrackingEnv } from '@dataharvest/shared/client-tracking';
import { fromEnvironment } from '@dataharvest/shared/environment';
import { SingleCopyEnv } from '@dataharvest/shared/load/multipart';
import { builtOnFirstEvent, lambda } from '@dataharvest/shared/handler';
import { type Outcome, parseClientList, type PersistDeps, persistObject } from './persist-object';

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

/**
 * Each record once in effect, with no claim that an attempt killed mid-load could leave behind to refuse the
 * platform's retries: the object is read only while it is the version the event names (If-Match on its ETag), an
 * event whose object has moved on finds it GONE, bytes the slice already holds are archived without a reload, and two
 * loads of one file (a duplicate delivery racing the first) queue on the slice's lock and count once (the metastore's
 * conditional write). A failed attempt throws, and the platform's retry loads the file.
 */
export function createHandler(deps: PersistDeps) {
  return lambda(async (event: unknown) => {
    const { Records } = S3Event.parse(event);
    const outcomes: Outcome[] = [];
    for (const { s3 } of Records) {
      const key = decodeKey(s3.object.key);
      // The bucket notifies of every new object, persistence's own archive/, errors/… writes included.
      if (isOwnObject(key)) {
        outcomes.push({ status: 'IGNORED', rows: 0 });
        continue;
      }
      const version = s3.object.versionId ?? s3.object.eTag ?? '';
      outcomes.push(await persistObject(deps, { bucket: s3.bucket.name, key, etag: version, eTag: s3.object.eTag, sequencer: s3.object.sequencer }));
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
      ...SingleCopyEnv,
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
    copyLimit: config.SINGLE_COPY_LIMIT,
  });
});
