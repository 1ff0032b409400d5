/** The serverless.yml of a transformer service: its stream filter, its registry entry, its own failure queue. */
export function transformerServerlessYml(name: string): string {
  return `# The ${name} transformer: reacts to batches whose relations are established, writes its status back.
service: dataharvest-${name}
frameworkVersion: '4'

plugins:
  - serverless-esbuild

provider:
  name: aws
  runtime: nodejs22.x
  architecture: arm64
  region: \${opt:region, 'eu-central-1'}
  stage: \${opt:stage, 'dev'}
  memorySize: 512
  timeout: 300
  deploymentBucket:
    blockPublicAccess: true
  environment:
    POWERTOOLS_SERVICE_NAME: ${name}
    METASTORE_TABLE: !ImportValue dataharvest-\${sls:stage}-metastore-table
    DATABASE_URL: \${param:databaseUrl, 'postgres://localhost:5432/dataharvest'}
  iam:
    role:
      statements:
        - Effect: Allow
          Action: [dynamodb:GetItem, dynamodb:UpdateItem, dynamodb:Query, dynamodb:PutItem, dynamodb:DeleteItem]
          Resource: !ImportValue dataharvest-\${sls:stage}-metastore-table-arn

custom:
  esbuild: \${file(../../shared/esbuild.yml)}

functions:
  transform:
    handler: src/handler.handler
    events:
      - stream:
          type: dynamodb
          arn: !ImportValue dataharvest-\${sls:stage}-metastore-stream-arn
          startingPosition: TRIM_HORIZON
          batchSize: 10
          batchWindow: 1
          maximumRetryAttempts: 3
          bisectBatchOnFunctionError: true
          functionResponseType: ReportBatchItemFailures
          filterPatterns:
            - dynamodb:
                NewImage:
                  relation_established: { BOOL: [true] }
                  stage: { S: [RELATED] }
          destinations:
            onFailure:
              type: sqs
              arn: !GetAtt FailureQueue.Arn
  # Adds this transformer to the metastore registry on deploy, so batches wait for it.
  register:
    handler: src/register.handler
    timeout: 30

resources:
  Resources:
    FailureQueue:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: dataharvest-${name}-failures-\${sls:stage}
        SqsManagedSseEnabled: true
        MessageRetentionPeriod: 1209600
    Registration:
      Type: Custom::TransformerRegistration
      Properties:
        ServiceToken: !GetAtt RegisterLambdaFunction.Arn
        Name: ${name}
        Required: 'true'
`;
}

export const registerHandlerTs = `export { registrationHandler as handler } from '@dataharvest/shared/registration';
`;
