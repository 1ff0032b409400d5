import type { IncomingHttpHeaders } from 'node:http';
import { UnreadableRequest, type Permission } from './request';

/**
 * SNS speaks the query protocol (a form body with `Action=…`, no X-Amz-Target), so its requests are known by the
 * service their SigV4 signature is scoped to: `Credential=<key>/<date>/<region>/sns/aws4_request`.
 */
export const isSnsRequest = (headers: IncomingHttpHeaders) => /\bCredential=[^/,]+\/[^/,]+\/[^/,]+\/sns\/aws4_request\b/.test(String(headers.authorization ?? ''));

/**
 * The permission an SNS request needs: `sns:<Action>` on the topic it names (TopicArn, Publish's TargetArn, or the
 * topic of a SubscriptionArn), on `*` for actions that name none (ListTopics, CreateTopic by name, SMS).
 */
export function snsPermissions(headers: IncomingHttpHeaders, body: Buffer): Permission[] {
  const type = String(headers['content-type'] ?? '');
  if (!type.startsWith('application/x-www-form-urlencoded')) throw new UnreadableRequest(`an SNS request with a ${type || 'missing'} content type is not read by the local IAM proxy`);
  const form = new URLSearchParams(body.toString('utf8'));
  const action = form.get('Action');
  if (!action) throw new UnreadableRequest('an SNS request without an Action');
  const subscription = form.get('SubscriptionArn');
  // A subscription's ARN is its topic's ARN and one more segment.
  const topic = form.get('TopicArn') ?? form.get('TargetArn') ?? (subscription ? subscription.split(':').slice(0, 6).join(':') : undefined);
  // PublishBatch is authorised as sns:Publish, as IAM's service authorization reference for SNS says.
  return [{ action: `sns:${action === 'PublishBatch' ? 'Publish' : action}`, resource: topic ?? '*' }];
}
