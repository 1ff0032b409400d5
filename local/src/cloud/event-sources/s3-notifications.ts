import type { S3ObjectEvent } from '../s3';
import { REGION } from '../services';

export interface S3Rule { bucket: string; events: string[]; prefix?: string; suffix?: string; functionName: string }

export function matchS3Rule(key: string, rules: { prefix?: string; suffix?: string }): boolean {
  return key.startsWith(rules.prefix ?? '') && key.endsWith(rules.suffix ?? '');
}

/** `s3:ObjectCreated:*` matches `ObjectCreated:Put`, as in a bucket's NotificationConfiguration. */
export function matchS3Event(eventName: string, patterns: string[]): boolean {
  return patterns.some((p) => {
    const pattern = p.replace(/^s3:/, '');
    return pattern.endsWith('*') ? eventName.startsWith(pattern.slice(0, -1)) : eventName === pattern;
  });
}

/** S3 URL-encodes keys in notifications, with '+' for spaces. */
const encodeKey = (key: string) => encodeURIComponent(key).replaceAll('%2F', '/').replaceAll('%20', '+');

/** The notification AWS would deliver, built from what s3rver reports. */
export function s3NotificationEvent(event: S3ObjectEvent, configurationId: string) {
  const r = event.Records[0]!;
  return {
    Records: [{
      eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: REGION, eventTime: new Date().toISOString(), eventName: r.eventName,
      userIdentity: { principalId: 'AWS:LOCAL' }, requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': r.s3.object.sequencer, 'x-amz-id-2': 'local' },
      s3: {
        s3SchemaVersion: '1.0', configurationId,
        bucket: { name: r.s3.bucket.name, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${r.s3.bucket.name}` },
        object: { key: encodeKey(r.s3.object.key), size: r.s3.object.size ?? 0, eTag: r.s3.object.eTag ?? '', sequencer: r.s3.object.sequencer },
      },
    }],
  };
}
