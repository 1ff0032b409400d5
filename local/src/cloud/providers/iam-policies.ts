import { bucketPolicyStatements } from '../iam/bucket-policy';
import type { ResourceProvider } from './provider';
import { notCreated } from './recorded';

/**
 * Roles and bucket policies: nothing is created, but the local IAM learns them. A function's proxy holds it to its
 * role (functions.ts), assumeRole hands out sessions of a role, and every proxy applies the bucket policies.
 */
export const iamPolicies: ResourceProvider = {
  types: ['AWS::IAM::Role', 'AWS::S3::BucketPolicy'],
  async create(ctx) {
    const { cloud, stack, logicalId, resource, resolver } = ctx;
    const recorded = notCreated(logicalId, resource, resolver, stack.stackName);
    if (resource.Type === 'AWS::IAM::Role') {
      cloud.iam.addRole(recorded.attributes.Arn!, ctx.props);
      return recorded;
    }
    const p = ctx.props();
    cloud.iam.setBucketPolicy(String(p.Bucket), bucketPolicyStatements(`${stack.stackName}: bucket policy ${logicalId}`, p.PolicyDocument as { Statement?: unknown }));
    return recorded;
  },
};
