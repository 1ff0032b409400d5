/**
 * What using a store encrypted under a customer managed key asks of the caller's permissions on that key, as each
 * service's encryption documentation says (S3 SSE-KMS, DynamoDB, Kinesis, SQS and SNS server-side encryption,
 * Secrets Manager): the service calls KMS on the caller's behalf, with the caller's permissions, and through itself
 * (`kms:ViaService`). Reading decrypts; writing asks for a data key (SQS, SNS and a multipart upload to S3 decrypt
 * it too). An action absent here touches no encrypted data (DescribeStream, DeleteMessage, ListBucket...).
 * test/support/key-rules.ts holds the templates' roles to the same table.
 */
export type KeyUse = 'kms:Decrypt' | 'kms:GenerateDataKey';

const READ: KeyUse[] = ['kms:Decrypt'];
const WRITE: KeyUse[] = ['kms:GenerateDataKey'];
const BOTH: KeyUse[] = ['kms:Decrypt', 'kms:GenerateDataKey'];

const USES: Record<string, KeyUse[]> = {
  // Every writer here may upload in parts (copies above the single-copy limit, clients' large uploads).
  's3:getobject': READ,
  's3:getobjectversion': READ,
  's3:putobject': BOTH,
  // DynamoDB decrypts the table key for any item access, and writers' items are encrypted under new data keys.
  'dynamodb:getitem': READ,
  'dynamodb:batchgetitem': READ,
  'dynamodb:query': READ,
  'dynamodb:scan': READ,
  'dynamodb:putitem': BOTH,
  'dynamodb:updateitem': BOTH,
  'dynamodb:deleteitem': BOTH,
  'dynamodb:batchwriteitem': BOTH,
  'kinesis:getrecords': READ,
  'kinesis:subscribetoshard': READ,
  'kinesis:putrecord': WRITE,
  'kinesis:putrecords': WRITE,
  'sqs:receivemessage': READ,
  'sqs:sendmessage': BOTH,
  'sns:publish': BOTH,
  'secretsmanager:getsecretvalue': READ,
};

/** The key permissions an action on an encrypted store needs (none for an action that touches no data). */
export const keyUseOf = (action: string): KeyUse[] => USES[action.toLowerCase()] ?? [];

/** The service a store's action goes through, as `kms:ViaService` names it. */
export const viaService = (action: string, region: string) => `${action.split(':')[0]}.${region}.amazonaws.com`;
