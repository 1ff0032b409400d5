import { ACCOUNT, arn, REGION } from '../account';
import type { Physical } from '../cloudformation/template';
import { CloudError } from '../errors';
import { roleArnOf } from './bucket-policy';
import { conditionsHold, type RequestContext, UnsupportedCondition } from './conditions';
import { keyUseOf, viaService } from './kms-use';
import { allows, resourcePolicyStatements, type Statement, UnsupportedPolicy } from './proxy';
import type { Permission } from './request';

type Props = Record<string, unknown>;

/** A key permission refused, and by which policy. */
export type KeyRefusal = Permission & { reason: string };

const STORES = new Set(['AWS::DynamoDB::Table', 'AWS::Kinesis::Stream', 'AWS::SQS::Queue', 'AWS::SNS::Topic', 'AWS::SecretsManager::Secret', 'AWS::S3::Bucket']);
const at = (v: unknown, ...path: string[]) => path.reduce<unknown>((o, k) => (o as Props | undefined)?.[k], v);

/** The key a store of the template names, and the ARN its requests are judged on (objects and consumers below it). */
export function encryptedStore(type: string, resolved: () => Props, made: Physical): { store: string; key: unknown } | undefined {
  if (!STORES.has(type)) return undefined;
  const props = resolved();
  switch (type) {
    case 'AWS::DynamoDB::Table':
      return at(props, 'SSESpecification', 'SSEType') === 'KMS' ? { store: made.attributes.Arn!, key: at(props, 'SSESpecification', 'KMSMasterKeyId') } : undefined;
    case 'AWS::Kinesis::Stream':
      return { store: made.attributes.Arn!, key: at(props, 'StreamEncryption', 'KeyId') };
    case 'AWS::SQS::Queue':
      return { store: made.attributes.Arn!, key: props.KmsMasterKeyId };
    case 'AWS::SNS::Topic':
    case 'AWS::SecretsManager::Secret':
      return { store: made.ref, key: type === 'AWS::SNS::Topic' ? props.KmsMasterKeyId : props.KmsKeyId };
    case 'AWS::S3::Bucket': {
      const byDefault = at((at(props, 'BucketEncryption', 'ServerSideEncryptionConfiguration') as unknown[] | undefined)?.[0], 'ServerSideEncryptionByDefault');
      return at(byDefault, 'SSEAlgorithm') === 'aws:kms' ? { store: arn.bucket(made.ref), key: at(byDefault, 'KMSMasterKeyID') } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The customer managed keys of the deployed stacks and the stores encrypted under them. Nothing is encrypted locally
 * (the emulators keep plaintext); what is kept is who may use each key: a function's request to an encrypted store
 * passes only if the key's policy and, where the policy delegates to the account, the caller's role allow the key
 * permissions the store's service asks for (kms-use.ts), through that service, as KMS decides on AWS.
 */
export class LocalKeys {
  /** Key ARN and key id -> the key. */
  private readonly keys = new Map<string, { arn: string; policy: Statement[] }>();
  /** Store ARN -> its key's ARN. */
  private readonly stores = new Map<string, string>();

  /** A key of a template: refused at deploy if its policy holds what the local evaluator cannot read as KMS would. */
  addKey(where: string, keyId: string, keyArn: string, policy: { Statement?: unknown } | undefined): void {
    let statements: Statement[];
    try {
      statements = resourcePolicyStatements(policy);
      for (const s of statements) conditionsHold(s.conditions, {});
    } catch (e) {
      if (e instanceof UnsupportedPolicy || e instanceof UnsupportedCondition) throw new CloudError(`${where}: its key policy: ${e.message}`, { cause: e });
      throw e;
    }
    const key = { arn: keyArn, policy: statements.map((s) => ({ ...s, resources: ['*'] })) };
    this.keys.set(keyArn, key).set(keyId, key);
  }

  /** A store encrypted under `key` (ARN or id); an AWS owned or AWS managed key (`alias/aws/…`) asks callers nothing. */
  encrypt(where: string, store: string, key: unknown): void {
    if (key === undefined || /^(arn:aws:kms:[^:]*:[^:]*:)?alias\/aws\//.test(String(key))) return;
    const found = this.keys.get(String(key));
    if (!found) throw new CloudError(`${where}: its KMS key ${String(key)} is no key of a deployed stack; the local cloud checks only the templates' own keys`);
    this.stores.set(store, found.arn);
  }

  /** The key a request's resource is encrypted under: its store's, or that of the store it is in (an object, a consumer). */
  keyOf(resource: string): string | undefined {
    for (const [store, key] of this.stores) if (resource === store || resource.startsWith(`${store}/`)) return key;
    return undefined;
  }

  /** The first key permission refused to `principal` for a request its role allows, or undefined. */
  refusal(permission: Permission, identity: Statement[], principal: string, context: RequestContext = {}): KeyRefusal | undefined {
    const keyArn = this.keyOf(permission.resource);
    if (!keyArn) return undefined;
    const key = this.keys.get(keyArn)!;
    const role = roleArnOf(principal);
    const named = (p: string) => key.policy.filter((s) => (s.principals ?? []).includes(p));
    const kmsContext: RequestContext = { ...context, 'kms:ViaService': viaService(permission.action, REGION), 'kms:CallerAccount': ACCOUNT };
    for (const action of keyUseOf(permission.action)) {
      const use = { action, resource: keyArn };
      if (allows(named(role), use, kmsContext)) continue;
      // A statement naming the account's root lets the account's IAM policies grant the key: the role must then.
      if (!allows(named(`arn:aws:iam::${ACCOUNT}:root`), use, kmsContext)) return { ...use, reason: `because the key policy does not allow it through ${kmsContext['kms:ViaService']}` };
      if (!allows(identity, use, kmsContext)) return { ...use, reason: `because no identity-based policy allows the ${action} action` };
    }
    return undefined;
  }
}
