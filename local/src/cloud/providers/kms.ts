import { ACCOUNT, REGION } from '../account';
import type { ResourceProvider } from './provider';

/**
 * Customer managed keys: nothing is encrypted locally, but each key and its policy are kept, so that a function's
 * use of a store encrypted under it is checked as KMS would (iam/keys.ts). Ref is the key id, as on AWS.
 */
export const kmsKeys: ResourceProvider = {
  types: ['AWS::KMS::Key'],
  async create(ctx) {
    const keyId = `${ctx.stack.stackName}-${ctx.logicalId}`;
    const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;
    ctx.cloud.iam.keys.addKey(`${ctx.stack.stackName}: ${ctx.logicalId}`, keyId, keyArn, ctx.props().KeyPolicy as { Statement?: unknown } | undefined);
    return { ref: keyId, attributes: { Arn: keyArn, KeyId: keyId } };
  },
};
