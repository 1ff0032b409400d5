import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { objectKey } from '@dataharvest/events/object-key';

export interface Uploaded {
  fileName: string;
  key: string;
  etag: string;
  bytes: number;
}

const LARGE = 8 * 1024 * 1024;

/** Streams one file to `incoming/<client>/<file name>`; multipart above 8 MiB, with progress for large files; abortable. */
export async function uploadFile(s3: S3Client, bucket: string, client: string, path: string, progress?: (line: string) => void, signal?: AbortSignal): Promise<Uploaded> {
  const fileName = basename(path);
  const key = objectKey(client, fileName);
  const bytes = statSync(path).size;
  const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: createReadStream(path) }, partSize: LARGE, queueSize: 2 });
  if (bytes > LARGE && progress) {
    upload.on('httpUploadProgress', (p) => progress(`${fileName}: ${Math.round(((p.loaded ?? 0) / bytes) * 100)}% of ${formatBytes(bytes)}`));
  }
  signal?.addEventListener('abort', () => void upload.abort(), { once: true });
  const done = await upload.done();
  return { fileName, key, etag: (done.ETag ?? '').replaceAll('"', ''), bytes };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
