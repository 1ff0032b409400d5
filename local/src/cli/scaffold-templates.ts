import { TRIGGERS } from '@dataharvest/events/state-machine';

/** A trigger's attribute patterns as YAML lines (`name: { TYPE: [values] }`), indented. */
const filterLines = (pattern: Record<string, Record<string, readonly unknown[]>>, indent: number) =>
  Object.entries(pattern)
    .map(([name, typed]) => {
      const [type, values] = Object.entries(typed)[0]!;
      return `${' '.repeat(indent)}${name}: { ${type}: [${values.join(', ')}] }`;
    })
    .join('\n');

/**
 * The serverless.yml of a transformer service: its stream filter, its own failure queue, and the custom resource
 * that adds it to the metastore registry (with a role that may write only the registry's partition).
 */
export function transformerServerlessYml(name: string, description = 'runs for batches whose relations are established and writes its status back'): string {
  return `# The ${name} transformer: ${description}.
service: dataharvest-${name}
frameworkVersion: '4'

plugins:
  - serverless-esbuild
  # Alarms on every function, failure queue and stream mapping (docs/operations.md).
  - '@dataharvest/shared/serverless-alarms'

provider:
  name: aws
  runtime: nodejs24.x
  architecture: arm64
  region: \${opt:region, 'eu-central-1'}
  stage: \${opt:stage, 'dev'}
  logRetentionInDays: \${file(../../shared/operations.yml):logRetentionInDays}
  memorySize: 512
  timeout: 300
  deploymentBucket:
    blockPublicAccess: true
  # X-Ray: every invocation traced, its AWS calls as subsegments (docs/operations.md).
  tracing:
    lambda: true
  environment:
    POWERTOOLS_SERVICE_NAME: ${name}
    METASTORE_TABLE: !ImportValue dataharvest-\${sls:stage}-metastore-table
    CLIENT_TRACKING_TABLE: !ImportValue dataharvest-\${sls:stage}-client-tracking-table
  kinesis:
    # Consumer names include the service: every service's function is a consumer of the one change feed.
    consumerNamingMode: serviceSpecific
  iam:
    role:
      statements:
        # With the framework's own statements, all that AWSLambdaKinesisExecutionRole lists: what Lambda checks when
        # it creates the change-feed mapping (test/templates.test.ts holds the list).
        - Effect: Allow
          Action: [kinesis:DescribeStream, kinesis:ListStreams]
          Resource: !ImportValue dataharvest-\${sls:stage}-metastore-change-feed-arn
        # Counts its transitions in the client tracking table, one atomic update each (docs/metastore.md).
        - Effect: Allow
          Action: [dynamodb:UpdateItem]
          Resource: !ImportValue dataharvest-\${sls:stage}-client-tracking-table-arn
        # Reads the batch, writes its own status, and (Query) finds the client's later batches when figures they build on
        # change (the stream read and the failure queue are added by the framework).
        - Effect: Allow
          Action: [dynamodb:GetItem, dynamodb:UpdateItem, dynamodb:Query]
          Resource: !ImportValue dataharvest-\${sls:stage}-metastore-table-arn
        - Effect: Allow
          Action: [secretsmanager:GetSecretValue]
          Resource: !ImportValue dataharvest-\${sls:stage}-database-secret-arn

custom:
  esbuild: \${file(../../shared/esbuild.yml)}
  statementTimeoutMs: 240000

functions:
  transform:
    handler: src/handler.handler
    vpc: \${file(../../shared/database.yml):vpc}
    environment: \${file(../../shared/database.yml):environment}
    events:
      - stream:
          type: kinesis
          arn: !ImportValue dataharvest-\${sls:stage}-metastore-change-feed-arn
          consumer: true
          # A consumer deployed onto a stage with history never replays it: history is reached by backfill (docs/metastore.md).
          startingPosition: LATEST
          batchSize: 10
          batchWindow: 1
          maximumRetryAttempts: 3
          bisectBatchOnFunctionError: true
          functionResponseType: ReportBatchItemFailures
          filterPatterns:
            - data:
                dynamodb:
                  NewImage:
${filterLines(TRIGGERS.transform, 20)}
          destinations:
            onFailure:
              type: sqs
              arn: !GetAtt FailureQueue.Arn
  # Answers the Registration custom resource: adds this transformer to the metastore registry on deploy.
  register:
    handler: src/register.handler
    timeout: 30
    role: RegisterRole

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
    # The register function alone may write, and only the registry's partition.
    RegisterRole:
      Type: AWS::IAM::Role
      Properties:
        AssumeRolePolicyDocument:
          Version: '2012-10-17'
          Statement:
            - Effect: Allow
              Principal: { Service: lambda.amazonaws.com }
              Action: sts:AssumeRole
        ManagedPolicyArns:
          - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
          # Active tracing: Lambda refuses a traced function whose role may not write to X-Ray.
          - arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess
        Policies:
          - PolicyName: transformer-registry
            PolicyDocument:
              Version: '2012-10-17'
              Statement:
                # Query: it checks that no other transformer contributes the same event fields.
                - Effect: Allow
                  Action: [dynamodb:PutItem, dynamodb:DeleteItem, dynamodb:Query]
                  Resource: !ImportValue dataharvest-\${sls:stage}-metastore-table-arn
                  Condition:
                    ForAllValues:StringEquals:
                      dynamodb:LeadingKeys: [REGISTRY]
`;
}

export const registerHandlerTs = `import { registrationHandler } from '@dataharvest/shared/registration';
import { contributionOf } from '@dataharvest/shared/transformer';
import { definition } from './handler';

/** Registers the transformer with what it adds to every portfolio's event. */
export const handler = registrationHandler(contributionOf(definition));
`;

/** A working first version of the transformer's SQL: per portfolio, how many transactions the batch has. */
export function transformerHandlerTs(name: string): string {
  const table = `${name.replaceAll('-', '_')}_results`;
  const figure = `${name.replaceAll('-', '_')}_transaction_count`;
  return `import { type TransformerDefinition, transformerHandler } from '@dataharvest/shared/transformer';

/**
 * The ${name} transformer. Replace the SQL with your own: $1 is the client, $2 the batch date; the statements run in
 * one transaction and must replace the batch's results, so a re-run gives identical tables. \`contributes\` is what
 * every portfolio's event carries from it, under names of its own.
 */
export const definition: TransformerDefinition = {
  name: '${name}',
  ddl: [
    \`CREATE TABLE IF NOT EXISTS ${table} (client text NOT NULL, batch_date date NOT NULL, portfolio_reference uuid NOT NULL,
       transaction_count integer NOT NULL, PRIMARY KEY (client, batch_date, portfolio_reference))\`,
  ],
  statements: [
    'DELETE FROM ${table} WHERE client = $1 AND batch_date = $2',
    \`INSERT INTO ${table}
       SELECT l.client, l.batch_date, l.portfolio_reference, count(t.record_id)
       FROM portfolio_links l
       LEFT JOIN transactions t ON t.client = l.client AND t.batch_date = l.batch_date AND t.account_number = l.account_number
       WHERE l.client = $1 AND l.batch_date = $2
       GROUP BY l.client, l.batch_date, l.portfolio_reference\`,
  ],
  contributes: {
    select: 'SELECT client, batch_date, portfolio_reference, transaction_count AS ${figure} FROM ${table}',
    fields: { ${figure}: 'integer' },
  },
};

export const handler = transformerHandler(definition);
`;
}

export function transformerPackageJson(name: string): string {
  return `${JSON.stringify({ name: `@dataharvest/${name}`, private: true, type: 'module' }, null, 2)}\n`;
}
