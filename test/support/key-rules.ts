import { keyUseOf } from '../../local/src/cloud/iam/kms-use';
import { actionMatches, type Entry } from './template-rules';

/**
 * The customer managed keys rules (docs/security.md, "Keys"): every data store is encrypted under a key of the
 * templates with rotation on, and every role that reads or writes an encrypted store may use exactly that key as the
 * store's service asks (local/src/cloud/iam/kms-use.ts). References are followed across stacks: an
 * `Fn::ImportValue` is the export's value in the stack that exports it.
 */
export type Exports = Record<string, { stack: string; value: unknown }>;

const json = (v: unknown) => JSON.stringify(v);
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const props = (e: Entry) => e.r.Properties ?? {};
const at = (v: unknown, ...path: string[]) => path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);

/** The resource a reference names: Ref, Fn::GetAtt, Fn::ImportValue (followed), an S3 ARN (the bucket of that name). */
function target(all: Entry[], exports: Exports, stack: string, value: unknown): Entry | undefined {
  const imported = at(value, 'Fn::ImportValue');
  if (typeof imported === 'string') {
    const e = exports[imported];
    return e && target(all, exports, e.stack, e.value);
  }
  const id = (at(value, 'Ref') ?? (at(value, 'Fn::GetAtt') as unknown[] | undefined)?.[0]) as string | undefined;
  if (id) {
    const found = all.find((x) => x.stack === stack && x.id === id);
    // A consumer's reads are reads of its stream.
    return found?.r.Type === 'AWS::Kinesis::StreamConsumer' ? target(all, exports, stack, props(found).StreamARN) : found;
  }
  const bucket = json(value ?? null).match(/arn:aws:s3:::([^/"$]+)/)?.[1];
  return bucket ? all.find((x) => x.r.Type === 'AWS::S3::Bucket' && props(x).BucketName === bucket) : undefined;
}

/** Where each kind of store names its key. */
const KEY_OF: Record<string, (p: Record<string, unknown>) => unknown> = {
  'AWS::DynamoDB::Table': (p) => (at(p, 'SSESpecification', 'SSEType') === 'KMS' ? at(p, 'SSESpecification', 'KMSMasterKeyId') : undefined),
  'AWS::Kinesis::Stream': (p) => at(p, 'StreamEncryption', 'KeyId'),
  'AWS::SQS::Queue': (p) => p.KmsMasterKeyId,
  'AWS::SNS::Topic': (p) => p.KmsMasterKeyId,
  'AWS::S3::Bucket': (p) => {
    const rule = list(at(p, 'BucketEncryption', 'ServerSideEncryptionConfiguration'))[0];
    return at(rule, 'ServerSideEncryptionByDefault', 'SSEAlgorithm') === 'aws:kms' ? at(rule, 'ServerSideEncryptionByDefault', 'KMSMasterKeyID') : undefined;
  },
  'AWS::RDS::DBCluster': (p) => (p.StorageEncrypted === true ? p.KmsKeyId : undefined),
  'AWS::SecretsManager::Secret': (p) => p.KmsKeyId,
  'AWS::Logs::LogGroup': (p) => p.KmsKeyId,
};

/** The customer managed key (with rotation on) a store is encrypted under, or undefined. */
function keyOf(all: Entry[], exports: Exports, store: Entry): Entry | undefined {
  const key = target(all, exports, store.stack, KEY_OF[store.r.Type]?.(props(store)));
  return key?.r.Type === 'AWS::KMS::Key' && props(key).EnableKeyRotation === true ? key : undefined;
}

/**
 * The stores that hold data, each of which must have a customer managed key. Left out, each for its reason: the
 * framework's deployment bucket (packaged code only), a bucket that receives server access logs (S3 delivers them
 * under SSE-S3 only), and the functions' log groups (no personal data by rule, test/one-cloud/privacy-logs.ts; CloudWatch
 * Logs encrypts them with its own key). The log groups a database cluster exports to are stores.
 */
function stores(all: Entry[]): Entry[] {
  const logTargets = new Set(all.map((x) => json(at(props(x), 'LoggingConfiguration', 'DestinationBucketName'))));
  const clusterLogs = new Set(all.filter((x) => x.r.Type === 'AWS::RDS::DBCluster').map((c) => `/aws/rds/cluster/${String(props(c).DBClusterIdentifier)}/`));
  return all.filter((x) => {
    if (x.r.Type === 'AWS::S3::Bucket') return x.id !== 'ServerlessDeploymentBucket' && !logTargets.has(json({ Ref: x.id }));
    if (x.r.Type === 'AWS::Logs::LogGroup') return [...clusterLogs].some((prefix) => String(props(x).LogGroupName ?? '').startsWith(prefix));
    return x.r.Type in KEY_OF;
  });
}

/** Every data store is encrypted under a customer managed key of the templates, with automatic rotation on. */
export function customerKeyViolations(all: Entry[], exports: Exports): string[] {
  return stores(all)
    .filter((s) => !keyOf(all, exports, s))
    .map((s) => `${s.stack}/${s.id}: no customer managed key with rotation`);
}

type Statement = { Effect?: string; Action?: unknown; Resource?: unknown };

/**
 * Every role that reads or writes an encrypted store may use that store's key as its service asks, on exactly that
 * key; every hosted rotation function of a secret under a key is given that key.
 */
export function keyGrantViolations(all: Entry[], exports: Exports): string[] {
  const out: string[] = [];
  for (const role of all.filter((x) => x.r.Type === 'AWS::IAM::Role')) {
    const statements = list(props(role).Policies)
      .flatMap((p) => list(at(p, 'PolicyDocument', 'Statement')))
      .map((s) => s as Statement)
      .filter((s) => s.Effect === 'Allow');
    const onKey = (action: string, key: Entry) =>
      statements.some((s) => list(s.Action).some((a) => actionMatches(a, action)) && list(s.Resource).some((r) => target(all, exports, role.stack, r) === key));
    const missing = new Set<string>();
    for (const s of statements)
      for (const action of list(s.Action).map(String))
        for (const resource of list(s.Resource)) {
          const store = target(all, exports, role.stack, resource);
          const key = store && keyOf(all, exports, store);
          if (!key) continue;
          for (const use of keyUseOf(action)) if (!onKey(use, key)) missing.add(`${use} on ${key.stack}/${key.id} (${action} on ${store.id})`);
        }
    for (const m of missing) out.push(`${role.stack}/${role.id}: lacks ${m}`);
  }
  // A hosted rotation function's role is made by the SecretsManager transform: it may use the key only if told it.
  for (const r of all.filter((x) => x.r.Type === 'AWS::SecretsManager::RotationSchedule' && props(x).HostedRotationLambda)) {
    const secret = target(all, exports, r.stack, props(r).SecretId);
    const key = secret && keyOf(all, exports, secret);
    if (key && target(all, exports, r.stack, at(props(r), 'HostedRotationLambda', 'KmsKeyArn')) !== key) out.push(`${r.stack}/${r.id}: its rotation function is not given ${key.stack}/${key.id}`);
  }
  return out;
}
