/**
 * The event S3 sends for one new object: the key URL-encoded with '+' for spaces, and the ETag without the quotes
 * PutObject answers it with, as S3 does. A quoted one names another version to persistence, so a duplicate built from
 * PutObject's answer would be a new upload of the same bytes, not the same event again.
 */
export function s3Event(bucket: string, key: string, eTag: string) {
  const encoded = encodeURIComponent(key).replaceAll('%2F', '/').replaceAll('%20', '+');
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-central-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key: encoded, eTag: eTag.replaceAll('"', ''), sequencer: '0' } },
      },
    ],
  };
}
