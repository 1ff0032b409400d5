import { z } from 'zod';
import { FileType } from './batch';

/**
 * One byte range of a large upload, as the chunker puts it on the chunk stream for a loader. Ranges begin at a record
 * start; the header travels with every chunk (base64: it is the file's own bytes, whatever their encoding), and
 * `first_line` is the file line of the range's first record, so that a loader's errors name lines of the whole file.
 */
export const ChunkDescriptor = z.object({
  /** The upload (bucket, key, version and sequencer): one per S3 event that started the load. */
  upload_id: z.string().regex(/^[0-9a-f]{40}$/),
  bucket: z.string().min(1),
  key: z.string().min(1),
  /** The object's ETag: ranged reads ask for exactly these bytes (If-Match), never a newer upload's. */
  etag: z.string().min(1),
  /** The file's version as the metastore records it (its version id, or its ETag). */
  version: z.string(),
  client: z.string().min(1),
  batch_date: z.string().regex(/^\d{8}$/),
  type: FileType,
  index: z.number().int().nonnegative(),
  total: z.number().int().positive(),
  /** The range [start, end) of the object's bytes. */
  start: z.number().int().nonnegative(),
  end: z.number().int().positive(),
  first_line: z.number().int().min(2),
  header: z.string(),
  lenient: z.boolean(),
});
export type ChunkDescriptor = z.infer<typeof ChunkDescriptor>;

/**
 * The chunk's partition key. A file's chunks spread over `lanes` keys, so over the shards and, with a
 * ParallelizationFactor, over concurrent batches; one client never has more than `lanes` chunks loading at once
 * (records of one key are handed to one batch at a time), which leaves the other loaders to other clients.
 */
export const chunkPartitionKey = (d: Pick<ChunkDescriptor, 'client' | 'index'>, lanes: number) => `${d.client}/${d.index % lanes}`;
