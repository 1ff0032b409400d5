type Context = {
  method: string;
  response: { get(header: string): string };
  status: number;
  type: string;
  body: unknown;
};

/** The storage classes S3 keeps offline: an object in one is read only once restored. */
const OFFLINE = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/**
 * GET of an object in S3 Glacier Flexible Retrieval or Deep Archive answers 403 InvalidObjectState, as S3 does until
 * the object is restored; s3rver keeps the storage class but serves the object. The local cloud has no restore: such
 * an object is read again once written anew in another class. HEAD and listings show it as S3 does.
 */
export async function archivedObjects(ctx: Context, next: () => Promise<void>): Promise<void> {
  await next();
  const storageClass = ctx.response.get('x-amz-storage-class');
  if (ctx.method !== 'GET' || (ctx.status !== 200 && ctx.status !== 206) || !OFFLINE.has(storageClass)) return;
  (ctx.body as { destroy?: () => void } | undefined)?.destroy?.();
  ctx.status = 403;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message><StorageClass>${storageClass}</StorageClass></Error>`;
}
