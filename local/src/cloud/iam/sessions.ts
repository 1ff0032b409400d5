import { allows, type IamProxy, resourcePolicyStatements, roleStatements, startIamProxy, type Statement, type Targets } from './proxy';
import { s3RequestContext } from './bucket-policy';
import type { Permission } from './request';
import type { RequestContext } from './conditions';
import { LocalCloudError } from '../errors';

/** AssumeRole refused by the role's trust policy, as STS answers it. */
export class AssumeRoleDenied extends LocalCloudError {
  override name = 'AccessDenied';
}

export interface RoleSession {
  /** Where the session's AWS calls go: an IAM proxy holding them to the role, evaluated with the session's tags. */
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * What STS AssumeRole would hand the caller, locally: the role's trust policy must admit the caller (its own ARN or
 * its account's root, with `aws:PrincipalArn`, `aws:RequestTag/<key>` and `aws:TagKeys` as the request's context, and
 * `sts:TagSession` too when it tags the session); the session's requests are then judged against the role's
 * policies with `aws:PrincipalTag/<key>` and against the bucket policies. The caller is named, not authenticated: the
 * local cloud has no credentials to check.
 */
export async function assumeRole(opts: {
  roleArn: string;
  role: Record<string, unknown>;
  caller: string;
  tags: Record<string, string>;
  targets: Targets;
  /** Whether a bucket policy denies the request, judged with the session's request context (its tags included). */
  resourceDenies: (permission: Permission, principal: string, context: RequestContext) => boolean;
  /** The key permission refused for a request to a store under a customer managed key (keys.ts). */
  keyRefusal: (permission: Permission, principal: string, statements: Statement[], context: RequestContext | undefined) => (Permission & { reason: string }) | undefined;
  onDenied: (message: string) => void;
}): Promise<RoleSession> {
  const { roleArn, role, caller, tags } = opts;
  const account = caller.split(':')[4];
  const trust = resourcePolicyStatements(role.AssumeRolePolicyDocument as { Statement?: unknown })
    .filter((s) => (s.principals ?? []).some((p) => p === '*' || p === caller || p === `arn:aws:iam::${account}:root`))
    .map((s): Statement => ({ ...s, resources: ['*'] }));
  const keys = Object.keys(tags);
  const request = { 'aws:PrincipalArn': caller, 'aws:TagKeys': keys.length ? keys : undefined, ...Object.fromEntries(keys.map((k) => [`aws:RequestTag/${k}`, tags[k]])) };
  for (const action of keys.length ? ['sts:AssumeRole', 'sts:TagSession'] : ['sts:AssumeRole']) {
    if (!allows(trust, { action, resource: '*' }, request))
      throw new AssumeRoleDenied(`User: ${caller} is not authorized to perform: ${action} on resource: ${roleArn} because the role's trust policy does not allow it`);
  }
  const name = roleArn.split('/').pop()!;
  const principal = `${roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${name}-session`;
  const session = Object.fromEntries(keys.map((k) => [`aws:PrincipalTag/${k}`, tags[k]]));
  const statements = roleStatements(role);
  const proxy: IamProxy = await startIamProxy(
    principal,
    statements,
    opts.targets,
    (refused) => opts.onDenied(refused instanceof Error ? `${name}: AccessDenied: ${refused.message}` : `${name}: AccessDenied: ${refused.action} on ${refused.resource}`),
    undefined,
    (permission, headers) => opts.resourceDenies(permission, principal, { ...s3RequestContext(principal, headers), ...session }),
    (headers) => ({ ...s3RequestContext(principal, headers), ...session }),
    (permission, context) => opts.keyRefusal(permission, principal, statements, context),
  );
  return proxy;
}
