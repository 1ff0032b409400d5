import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialIdentity } from '@smithy/types';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface AwsOptions {
  region?: string;
  credentials?: AwsCredentialIdentity;
  /** Emulators' endpoints (tests, the CLI on a local cloud). In Lambda none: the SDK reads AWS_ENDPOINT_URL_* itself. */
  endpoints?: { s3?: string; dynamodb?: string; kinesis?: string; secretsmanager?: string };
}

export type AwsClients = ReturnType<typeof awsClients>;

/** The AWS clients a function or the CLI uses, made once by whoever reads the configuration and handed on. */
export function awsClients(opts: AwsOptions = {}) {
  const { endpoints = {}, ...common } = opts;
  return {
    // The metastore is every step's only coordinator: a call rides out a short outage (ten attempts, as the v2 SDK
    // gave DynamoDB, backing off up to seconds) instead of failing the step and spending the platform's retries.
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb, maxAttempts: 10 }), { marshallOptions: { removeUndefinedValues: true } }),
    // Checksums only when required: otherwise streamed uploads are framed as aws-chunked, which s3rver stores verbatim.
    s3: new S3Client({
      ...common,
      endpoint: endpoints.s3,
      forcePathStyle: endpoints.s3 !== undefined,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    // kinesalite speaks HTTP/1.1 only; the SDK's default handler is fine with it through NodeHttpHandler.
    kinesis: new KinesisClient({ ...common, endpoint: endpoints.kinesis, requestHandler: new NodeHttpHandler() }),
    secrets: new SecretsManagerClient({ ...common, endpoint: endpoints.secretsmanager }),
  };
}
