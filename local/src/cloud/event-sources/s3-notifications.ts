import { REGION } from '../account';
import { UnsupportedProperty } from '../cloudformation/property-support';

export interface S3Rule {
  bucket: string;
  events: string[];
  prefix?: string;
  suffix?: string;
  functionName: string;
}

/** What s3rver emits for each write (already S3-shaped, but with a raw key and its own event names). */
export interface S3rverEvent {
  Records: Array<{ eventName: string; eventTime?: string; s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer: string } } }>;
}

/**
 * A bucket's NotificationConfiguration (resolved): one rule per Lambda configuration. Only object creation is
 * notified as S3 does it; a rule for any other event is refused: s3rver sends nothing for a multi-object delete, a
 * versioned bucket's delete markers are not modelled, and restores, replication, lifecycle and tagging never happen.
 */
export function notificationRules(bucket: string, props: Record<string, unknown>): S3Rule[] {
  const configs = (props.NotificationConfiguration as { LambdaConfigurations?: Array<Record<string, unknown>> } | undefined)?.LambdaConfigurations ?? [];
  return configs.map((c) => {
    if (!String(c.Event).startsWith('s3:ObjectCreated:'))
      throw new UnsupportedProperty(`NotificationConfiguration event ${String(c.Event)} is not emulated by the local cloud (only s3:ObjectCreated:* events are)`);
    const rules = (c.Filter as { S3Key?: { Rules?: Array<{ Name: string; Value: string }> } } | undefined)?.S3Key?.Rules ?? [];
    const rule = (name: string) => rules.find((x) => x.Name.toLowerCase() === name)?.Value;
    return { bucket, events: [String(c.Event)], prefix: rule('prefix'), suffix: rule('suffix'), functionName: String(c.Function).split(':').pop()! };
  });
}

/**
 * A bucket notification's S3Key filter: the key starts with the prefix and ends with the suffix. S3 compares them
 * with the URL-encoded key, the one its events carry: a rule `my folder/` never matches, `my+folder/` does.
 */
export function matchS3Rule(key: string, rules: { prefix?: string; suffix?: string }): boolean {
  const encoded = encodeS3Key(key);
  return encoded.startsWith(rules.prefix ?? '') && encoded.endsWith(rules.suffix ?? '');
}

/** `s3:ObjectCreated:*` matches `ObjectCreated:Put`, as in a bucket's NotificationConfiguration. */
export function matchS3Event(eventName: string, patterns: string[]): boolean {
  return patterns.some((p) => {
    const pattern = p.replace(/^s3:/, '');
    return pattern.endsWith('*') ? eventName.startsWith(pattern.slice(0, -1)) : eventName === pattern;
  });
}

/**
 * S3 URL-encodes keys in notifications like a form (Java's URLEncoder): spaces as '+', everything but letters,
 * digits and `.-*_` percent-encoded, except that '/' stays.
 */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+')
    .replaceAll('%2F', '/');
}

/**
 * s3rver reports a completed multipart upload as `ObjectCreated:Post` (it has no other POST that creates objects
 * through the SDK); S3 calls it CompleteMultipartUpload, which matters to rules that list event types.
 */
const eventNameOf = (s3rverName: string) => (s3rverName === 'ObjectCreated:Post' ? 'ObjectCreated:CompleteMultipartUpload' : s3rverName);

/** The notification S3 would deliver to a function (event structure version 2.1), built from what s3rver emits. */
export function s3NotificationEvent(event: S3rverEvent, configurationId: string) {
  const r = event.Records[0]!;
  const { key, size, eTag, sequencer } = r.s3.object;
  const bucket = r.s3.bucket.name;
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: REGION,
        eventTime: r.eventTime ?? new Date().toISOString(),
        eventName: eventNameOf(r.eventName),
        userIdentity: { principalId: 'AWS:LOCAL' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': sequencer, 'x-amz-id-2': 'local' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId,
          bucket: { name: bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${bucket}` },
          // Deletions carry neither size nor eTag, as in S3.
          object: { key: encodeS3Key(key), ...(size === undefined ? {} : { size }), ...(eTag === undefined ? {} : { eTag }), sequencer },
        },
      },
    ],
  };
}
