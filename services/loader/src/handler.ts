import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { ChunkDescriptor } from '@dataharvest/events/chunk';
import { awsClients } from '@dataharvest/shared/aws';
import { ClientTrackingEnv } from '@dataharvest/shared/client-tracking';
import { fromEnvironment } from '@dataharvest/shared/environment';
import { SingleCopyEnv } from '@dataharvest/shared/load/multipart';
import { handleInOrder } from '@dataharvest/shared/batch-response';
import { builtOnFirstEvent, lambda } from '@dataharvest/shared/handler';
import { logger } from '@dataharvest/shared/logger';
import { safeError } from '@dataharvest/shared/safe-error';
import { type LoaderDeps, loadChunk } from './load-chunk';

const CHUNK_KEYS = ['client', 'batch_date', 'type', 'upload_id', 'chunk'];

/**
 * The chunk loader: each record of the chunk stream is one chunk of a large file. The first chunk that fails is
 * reported with every record after it, so Lambda retries from there (bisecting a failing batch); every chunk is
 * idempotent, so a retried or redelivered one loads nothing twice.
 */
export function createHandler(deps: LoaderDeps) {
  return lambda(async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    return handleInOrder(event.Records, async (record) => {
      try {
        const chunk = ChunkDescriptor.parse(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')));
        logger.appendKeys({ client: chunk.client, batch_date: chunk.batch_date, type: chunk.type, upload_id: chunk.upload_id, chunk: chunk.index });
        const outcome = await loadChunk(deps, chunk);
        // Peak memory so far: it must stay flat whatever the chunk's size (docs/performance.md).
        logger.info('chunk handled', { outcome, of: chunk.total, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) });
      } catch (error) {
        logger.error('chunk failed', { error: safeError(error) });
        throw error;
      } finally {
        logger.removeKeys(CHUNK_KEYS);
      }
    });
  });
}

export const handler = builtOnFirstEvent(() => {
  const env = process.env;
  // The local cloud's S3 (AWS_ENDPOINT_URL_S3, which only it sets) addresses buckets by path, not by host name.
  const { config, aws, metastore, database, tracking, lineage } = fromEnvironment(env, { ...ClientTrackingEnv, ...SingleCopyEnv }, awsClients({ endpoints: { s3: env.AWS_ENDPOINT_URL_S3 } }));
  return createHandler({ metastore, database, tracking, lineage, s3: aws.s3, copyLimit: config.SINGLE_COPY_LIMIT });
});
