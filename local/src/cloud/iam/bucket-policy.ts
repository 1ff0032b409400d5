import type { IncomingHttpHeaders } from 'node:http';
import { CloudError } from '../errors';
import { decide, resourcePolicyStatements, type Statement, UnsupportedPolicy } from './proxy';
import { conditionsHold, type RequestContext, UnsupportedCondition } from './conditions';
import type { Permission } from './request';

/**
 * The request context of one function request, as a bucket policy's conditions read it. aws:SecureTransport is
 * true: on AWS the SDK speaks HTTPS to S3; only the endpoints the local cloud hands functions are loopback HTTP.
 * aws:PrincipalArn of a role session is the role's ARN, as IAM gives it.
 */
export function s3RequestContext(principal: string, headers: IncomingHttpHeaders): RequestContext {
  return {
    'aws:SecureTransport': 'true',
    'aws:PrincipalArn': roleArnOf(principal),
    's3:x-amz-server-side-encryption': headers['x-amz-server-side-encryption'] as string | undefined,
    's3:x-amz-server-side-encryption-customer-algorithm': headers['x-amz-server-side-encryption-customer-algorithm'] as string | undefined,
    's3:x-amz-server-side-encryption-aws-kms-key-id': headers['x-amz-server-side-encryption-aws-kms-key-id'] as string | undefined,
  };
}
/** `arn:aws:sts::<account>:assumed-role/<role>/<session>` -> `arn:aws:iam::<account>:role/<role>`; any other ARN as it is. */
export const roleArnOf = (principal: string) => principal.replace(/^arn:aws:sts::(\d+):assumed-role\/([^/]+)\/.*$/, 'arn:aws:iam::$1:role/$2');

/** A statement that names AWS services only (S3 delivering access logs): no local requester is one, so it never applies. */
const servicesOnly = (s: Statement) => (s.principals ?? []).length > 0 && (s.principals ?? []).every((p) => p.startsWith('service:'));

/** The condition keys s3RequestContext judges: a bucket policy naming another is refused at deploy. */
const JUDGED_KEYS = new Set(Object.keys(s3RequestContext('', {})).map((k) => k.toLowerCase()));

/**
 * A bucket policy's statements, or a CloudError naming the resource for what the local IAM proxy cannot enforce as
 * S3 would: an Allow (it would grant functions nothing here), a condition operator it does not evaluate, or a
 * condition key it cannot judge from a function's request (a Deny on it would silently never apply). Statements
 * naming only AWS service principals are left out: no function or session is one.
 */
export function bucketPolicyStatements(where: string, document: { Statement?: unknown } | undefined): Statement[] {
  const refuse = (why: string, options?: ErrorOptions) =>
    new CloudError(`${where}: ${why}; the local cloud enforces a bucket policy's Deny statements on the keys ${[...JUDGED_KEYS].join(', ')} only`, options);
  let statements: Statement[];
  try {
    statements = resourcePolicyStatements(document).filter((s) => !servicesOnly(s));
    for (const s of statements) conditionsHold(s.conditions, {});
  } catch (e) {
    if (e instanceof UnsupportedPolicy || e instanceof UnsupportedCondition) throw refuse(e.message, { cause: e });
    throw e;
  }
  if (statements.some((s) => s.effect === 'Allow')) throw refuse('it has an Allow statement');
  const unjudged = statements.flatMap((s) => Object.values(s.conditions ?? {}).flatMap((keys) => Object.keys(keys))).find((k) => !JUDGED_KEYS.has(k.toLowerCase()));
  if (unjudged) throw refuse(`its condition key ${unjudged} cannot be judged from a function's request`);
  return statements;
}

/** Whether the bucket's policy explicitly denies the principal an S3 permission. */
export function deniedByBucketPolicy(permission: Permission, principal: string, context: RequestContext, policyOf: (bucket: string) => Statement[] | undefined): boolean {
  if (!permission.action.startsWith('s3:') || !permission.resource.startsWith('arn:aws:s3:::')) return false;
  const bucket = permission.resource.slice('arn:aws:s3:::'.length).split('/')[0]!;
  const denies = policyOf(bucket) ?? [];
  // Only Deny statements exist here (bucketPolicyStatements): decide denies exactly when one of them matches.
  return denies.length > 0 && !decide({ principal, identity: [{ effect: 'Allow', actions: ['*'], resources: ['*'] }], resourcePolicy: denies, permission, context });
}
