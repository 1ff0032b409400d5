import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Batch } from '@dataharvest/events/batch';
import { parseObjectKey } from '@dataharvest/events/object-key';
import { createErasures } from '@dataharvest/shared/erasures';
import { type Connection, ingestBucket, metastoreTable } from './connection';
import type { QueuedFailure } from './failure-queues';

/** Where an on-failure message stands now: what redrive can do for it, and whether its batch moved on since. */
export interface Standing {
  /** An S3-triggered failure whose object still waits in incoming/: redrive re-triggers it. */
  inIncoming?: boolean;
  /** Why the message needs no redrive any more (`failures discard --resolved` removes it); absent while it does. */
  resolved?: string;
}

const SETTLED = new Set(['PERSISTED', 'REJECTED']);

/**
 * Whether a message's batch has moved on without it: a stream record's batch COMPLETE at a later generation (that
 * generation ran every step again), or an upload no longer in incoming/ whose file was settled since (a later upload
 * of it loaded or was refused: the failed one's bytes are not what the batch holds any more).
 */
export function resolution(f: QueuedFailure, batch: Batch | undefined, inIncoming: boolean | undefined): string | undefined {
  if (f.objectKey) {
    const parsed = parseObjectKey(f.objectKey);
    if (inIncoming || !parsed.ok) return undefined;
    const file = batch?.files[parsed.type];
    if (!file || !SETTLED.has(file.status)) return undefined;
    const since = file.etag !== f.eTag || file.at >= f.lastSeen;
    return since ? `${parsed.fileName} ${file.status} since, at ${file.at}` : undefined;
  }
  if (f.failure && batch?.stage === 'COMPLETE' && batch.generation > f.failure.generation) return `batch COMPLETE at generation ${batch.generation}`;
  return undefined;
}

/** Whether the object is in the bucket: S3 answers 404 for a missing key to a caller who may list the bucket. */
async function present(on: Connection, bucket: string, key: string): Promise<boolean> {
  try {
    await on.aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

/** Each message's standing, by message id: one metastore read per batch or erasure request, one HEAD per upload. */
export async function standings(on: Connection, queued: QueuedFailure[]): Promise<Map<string, Standing>> {
  const batches = new Map<string, Promise<Batch | undefined>>();
  const batchOf = (client: string, date: string) => {
    const id = `${client}#${date}`;
    if (!batches.has(id)) batches.set(id, on.metastore.getBatch(client, date));
    return batches.get(id)!;
  };
  const out = new Map<string, Standing>();
  for (const f of queued) {
    if (f.erasure) {
      const request = await createErasures(on.aws.dynamo, metastoreTable(on.deployment)).get(f.erasure.request);
      out.set(f.id, request?.status === 'DONE' ? { resolved: `erasure DONE since, at ${request.done_at}` } : {});
      continue;
    }
    const inIncoming = f.objectKey ? await present(on, f.bucket ?? ingestBucket(on.deployment), f.objectKey) : undefined;
    const batch = f.client && f.batchDate ? await batchOf(f.client, f.batchDate) : undefined;
    const resolved = resolution(f, batch, inIncoming);
    out.set(f.id, { ...(inIncoming === undefined ? {} : { inIncoming }), ...(resolved ? { resolved } : {}) });
  }
  return out;
}
