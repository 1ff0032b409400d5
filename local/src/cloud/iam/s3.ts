import type { IncomingHttpHeaders } from 'node:http';
import { UnreadableRequest, type Permission } from './request';
import { arn } from '../account';

type Actions = Partial<Record<string, string>>;

/** An object's sub-resources are actions of their own (IAM's service authorization reference for S3). */
const OBJECT: Record<string, Actions> = {
  acl: { GET: 'GetObjectAcl', PUT: 'PutObjectAcl' },
  tagging: { GET: 'GetObjectTagging', PUT: 'PutObjectTagging', DELETE: 'DeleteObjectTagging' },
  retention: { GET: 'GetObjectRetention', PUT: 'PutObjectRetention' },
  'legal-hold': { GET: 'GetObjectLegalHold', PUT: 'PutObjectLegalHold' },
  torrent: { GET: 'GetObjectTorrent' },
  attributes: { GET: 'GetObjectAttributes', HEAD: 'GetObjectAttributes' },
  restore: { POST: 'RestoreObject' },
  select: { POST: 'GetObject' },
  uploads: { POST: 'PutObject' },
  uploadId: { GET: 'ListMultipartUploadParts', PUT: 'PutObject', POST: 'PutObject', DELETE: 'AbortMultipartUpload' },
  '': { GET: 'GetObject', HEAD: 'GetObject', PUT: 'PutObject', DELETE: 'DeleteObject' },
};
const BUCKET: Record<string, Actions> = {
  acl: { GET: 'GetBucketAcl', PUT: 'PutBucketAcl' },
  policy: { GET: 'GetBucketPolicy', PUT: 'PutBucketPolicy', DELETE: 'DeleteBucketPolicy' },
  tagging: { GET: 'GetBucketTagging', PUT: 'PutBucketTagging', DELETE: 'PutBucketTagging' },
  versioning: { GET: 'GetBucketVersioning', PUT: 'PutBucketVersioning' },
  location: { GET: 'GetBucketLocation' },
  uploads: { GET: 'ListBucketMultipartUploads' },
  versions: { GET: 'ListBucketVersions' },
  notification: { GET: 'GetBucketNotification', PUT: 'PutBucketNotification' },
  cors: { GET: 'GetBucketCORS', PUT: 'PutBucketCORS', DELETE: 'PutBucketCORS' },
  lifecycle: { GET: 'GetLifecycleConfiguration', PUT: 'PutLifecycleConfiguration', DELETE: 'PutLifecycleConfiguration' },
  website: { GET: 'GetBucketWebsite', PUT: 'PutBucketWebsite', DELETE: 'DeleteBucketWebsite' },
  logging: { GET: 'GetBucketLogging', PUT: 'PutBucketLogging' },
  encryption: { GET: 'GetEncryptionConfiguration', PUT: 'PutEncryptionConfiguration', DELETE: 'PutEncryptionConfiguration' },
  'object-lock': { GET: 'GetBucketObjectLockConfiguration', PUT: 'PutBucketObjectLockConfiguration' },
  '': { GET: 'ListBucket', HEAD: 'ListBucket', PUT: 'CreateBucket', DELETE: 'DeleteBucket' },
};
/** Sub-resources S3 knows but no table above maps: a request naming one is refused, not checked as a plain read. */
const OTHER = ['requestPayment', 'replication', 'analytics', 'inventory', 'metrics', 'accelerate', 'intelligent-tiering', 'ownershipControls', 'publicAccessBlock', 'policyStatus', 'delete'];
const SUBRESOURCES = new Set([...Object.keys(OBJECT), ...Object.keys(BUCKET), ...OTHER].filter(Boolean));
/** With a versionId these act on that version and IAM names them so. */
const VERSIONED = new Set(['GetObject', 'GetObjectAcl', 'PutObjectAcl', 'GetObjectTagging', 'PutObjectTagging', 'DeleteObjectTagging', 'DeleteObject', 'GetObjectAttributes', 'GetObjectTorrent']);
const versioned = (action: string) => action.replace(/^(\w+?Object)/, '$1Version');

/**
 * The key exactly as S3 stores it: percent-decoded, never path-normalised. A `.` or `..` segment is refused: S3 keeps
 * it literally, while the local S3 stores objects as files and would resolve it to another prefix than the one checked.
 */
function keyOf(rawKey: string, what: string): string {
  const key = decodeURIComponent(rawKey);
  if (key.split('/').some((s) => s === '.' || s === '..')) throw new UnreadableRequest(`the ${what} ${key} has a . or .. segment, which the local S3 would store under another prefix`);
  return key;
}

/** The permissions an S3 request needs, path style (`/<bucket>/<key>?<query>`), read from the raw request path. */
export function s3Permissions(method: string, url: string, headers: IncomingHttpHeaders): Permission[] {
  const [rawPath = '', query = ''] = url.split(/\?(.*)/s);
  const searchParams = new URLSearchParams(query);
  const [, rawBucket = '', ...rest] = rawPath.split('/');
  const bucket = decodeURIComponent(rawBucket);
  const key = keyOf(rest.join('/'), 'key');
  if (!bucket) return [{ action: 's3:ListAllMyBuckets', resource: '*' }];
  const named = [...searchParams.keys()].filter((k) => SUBRESOURCES.has(k));
  if (named.length > 1) throw new UnreadableRequest(`the S3 request names more than one sub-resource (${named.join(', ')})`);
  const sub = named[0] ?? '';
  if (!key && sub === 'delete' && method === 'POST') return [{ action: 's3:DeleteObject', resource: `${arn.bucket(bucket)}/*` }];
  const action = (key ? OBJECT : BUCKET)[sub]?.[method];
  if (!action) throw new UnreadableRequest(`${method} ${key ? 'object' : 'bucket'}${sub ? `?${sub}` : ''} is an S3 request the local IAM proxy does not map to an action`);
  if (!key) return [{ action: `s3:${action}`, resource: arn.bucket(bucket) }];
  const own = { action: `s3:${searchParams.has('versionId') && VERSIONED.has(action) ? versioned(action) : action}`, resource: `${arn.bucket(bucket)}/${key}` };
  const copySource = headers['x-amz-copy-source'];
  if (!copySource || method !== 'PUT') return [own];
  // A copy also reads its source, `/<bucket>/<key>[?versionId=…]` (the leading slash is optional).
  const [source = '', sourceQuery = ''] = String(copySource)
    .replace(/^\//, '')
    .split(/\?(.*)/s);
  const [sourceBucket = '', ...sourceKey] = source.split('/');
  const read = new URLSearchParams(sourceQuery).has('versionId') ? 's3:GetObjectVersion' : 's3:GetObject';
  return [own, { action: read, resource: `${arn.bucket(decodeURIComponent(sourceBucket))}/${keyOf(sourceKey.join('/'), 'copy source')}` }];
}
