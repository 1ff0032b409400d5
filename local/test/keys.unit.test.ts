import { ACCOUNT } from '../src/cloud/account';
import { CloudError } from '../src/cloud/errors';
import { encryptedStore, LocalKeys } from '../src/cloud/iam/keys';
import type { Statement } from '../src/cloud/iam/proxy';

/** The local cloud's customer managed keys (iam/keys.ts): who may use a store's key, as KMS decides it through the store. */
const keyArn = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/s-dev-DataKey`;
const table = `arn:aws:dynamodb:eu-central-1:${ACCOUNT}:table/t`;
const bucket = 'arn:aws:s3:::b';
const principal = `arn:aws:sts::${ACCOUNT}:assumed-role/fn-role/fn`;
const delegating = {
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['kms:Create*', 'kms:Describe*'], Resource: '*' },
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': ['dynamodb.eu-central-1.amazonaws.com', 's3.eu-central-1.amazonaws.com'] } },
    },
    { Effect: 'Allow', Principal: { Service: 'logs.eu-central-1.amazonaws.com' }, Action: ['kms:Decrypt'], Resource: '*' },
  ],
};
const keys = () => {
  const k = new LocalKeys();
  k.addKey('s-dev: DataKey', 's-dev-DataKey', keyArn, delegating);
  k.encrypt('s-dev: Table', table, keyArn);
  k.encrypt('s-dev: Bucket', bucket, 's-dev-DataKey');
  return k;
};
const role = (actions: string[], resource = keyArn): Statement[] => [{ effect: 'Allow', actions, resources: [resource] }];

describe('the local customer managed keys', () => {
  it('let a role read and write an encrypted table or bucket only with the key permissions each action asks for', () => {
    const k = keys();
    expect(k.refusal({ action: 'dynamodb:GetItem', resource: table }, role(['kms:Decrypt']), principal)).toBeUndefined();
    expect(k.refusal({ action: 'dynamodb:PutItem', resource: table }, role(['kms:Decrypt']), principal)).toMatchObject({ action: 'kms:GenerateDataKey', resource: keyArn });
    expect(k.refusal({ action: 'dynamodb:PutItem', resource: table }, role(['kms:Decrypt', 'kms:GenerateDataKey']), principal)).toBeUndefined();
    // An object is in its bucket's store; a grant on another key is no grant.
    expect(k.refusal({ action: 's3:GetObject', resource: `${bucket}/incoming/A/x.csv` }, role(['kms:Decrypt'], `${keyArn}-other`), principal)).toMatchObject({
      action: 'kms:Decrypt',
      reason: 'because no identity-based policy allows the kms:Decrypt action',
    });
    // What touches no data asks nothing of the key; an unencrypted store neither.
    expect(k.refusal({ action: 'dynamodb:DescribeTable', resource: table }, [], principal)).toBeUndefined();
    expect(k.refusal({ action: 'dynamodb:GetItem', resource: `${table}-plain` }, [], principal)).toBeUndefined();
  });

  it('refuse a use through a service the key policy does not name, whatever the role grants', () => {
    const k = keys();
    const queue = `arn:aws:sqs:eu-central-1:${ACCOUNT}:q`;
    k.encrypt('s-dev: Queue', queue, keyArn);
    expect(k.refusal({ action: 'sqs:SendMessage', resource: queue }, role(['kms:*']), principal)).toMatchObject({
      action: 'kms:Decrypt',
      reason: 'because the key policy does not allow it through sqs.eu-central-1.amazonaws.com',
    });
  });

  it('ask nothing of AWS managed keys, and refuse at deploy a key no stack created or a policy it cannot read', () => {
    const k = keys();
    k.encrypt('s-dev: Stream', `arn:aws:kinesis:eu-central-1:${ACCOUNT}:stream/s`, 'alias/aws/kinesis');
    expect(k.keyOf(`arn:aws:kinesis:eu-central-1:${ACCOUNT}:stream/s`)).toBeUndefined();
    expect(() => k.encrypt('s-dev: Other', table, 'arn:aws:kms:eu-central-1:000000000000:key/elsewhere')).toThrow(CloudError);
    expect(() => k.addKey('s-dev: Odd', 'odd', `${keyArn}-odd`, { Statement: [{ Effect: 'Allow', NotPrincipal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }] })).toThrow(
      /s-dev: Odd: its key policy/,
    );
  });

  it('read the key each store of a template names', () => {
    const made = { ref: 'q-url', attributes: { Arn: 'arn:q' } };
    expect(encryptedStore('AWS::SQS::Queue', () => ({ KmsMasterKeyId: 'k' }), made)).toEqual({ store: 'arn:q', key: 'k' });
    expect(encryptedStore('AWS::DynamoDB::Table', () => ({ SSESpecification: { SSEEnabled: true } }), made)).toBeUndefined();
    expect(
      encryptedStore('AWS::S3::Bucket', () => ({ BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'k' } }] } }), {
        ref: 'b',
        attributes: {},
      }),
    ).toEqual({
      store: 'arn:aws:s3:::b',
      key: 'k',
    });
    expect(encryptedStore('AWS::Lambda::Function', () => ({}), made)).toBeUndefined();
  });
});
