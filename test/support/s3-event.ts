/** The event S3 sends for one new object: the key URL-encoded with '+' for spaces, as S3 does. */
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
        s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key: encoded, eTag, sequencer: '0' } },
      },
    ],
  };
}
