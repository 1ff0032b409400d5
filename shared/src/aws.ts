import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

// Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables, which the local cloud sets.
const local = (service: string) => Boolean(process.env[`AWS_ENDPOINT_URL_${service}`]);

let dynamo: DynamoDBDocumentClient | undefined;
let s3: S3Client | undefined;
let kinesis: KinesisClient | undefined;

export function dynamoClient(): DynamoDBDocumentClient {
  dynamo ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return dynamo;
}

export function s3Client(): S3Client {
  // Checksums only when required: otherwise streamed uploads are framed as aws-chunked, which s3rver stores verbatim.
  s3 ??= new S3Client({ forcePathStyle: local('S3'), requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  return s3;
}

export function kinesisClient(): KinesisClient {
  // kinesalite speaks HTTP/1.1 only; the SDK's default handler is fine with it through NodeHttpHandler.
  kinesis ??= new KinesisClient({ requestHandler: new NodeHttpHandler() });
  return kinesis;
}
