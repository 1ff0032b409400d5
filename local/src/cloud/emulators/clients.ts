import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { REGION } from '../account';
import type { Services } from './services';

/** The local cloud's own clients of its emulators: it creates resources and reads streams with them. */
export interface Clients {
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  kinesis: KinesisClient;
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
}

export function emulatorClients(services: Services): Clients {
  const aws = { region: REGION, credentials: { accessKeyId: services.env.AWS_ACCESS_KEY_ID!, secretAccessKey: services.env.AWS_SECRET_ACCESS_KEY! } };
  const { endpoints } = services;
  return {
    dynamodb: new DynamoDBClient({ ...aws, endpoint: endpoints.dynamodb }),
    streams: new DynamoDBStreamsClient({ ...aws, endpoint: endpoints.dynamodb }),
    kinesis: new KinesisClient({ ...aws, endpoint: endpoints.kinesis, requestHandler: new NodeHttpHandler() }),
    s3: new S3Client({ ...aws, endpoint: endpoints.s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    sqs: new SQSClient({ ...aws, endpoint: endpoints.sqs }),
    sns: new SNSClient({ ...aws, endpoint: endpoints.sns }),
  };
}
