import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { feedFilter, observerFilter, type TRIGGERS } from '@dataharvest/events/state-machine';
import { loadComposedStacks } from '../local/src/cloud/cloudformation/compose';
import { conditionValues } from '../local/src/cloud/cloudformation/conditions';
import { Resolver, type Stack } from '../local/src/cloud/cloudformation/template';
import {
  type Entry,
  endpointPolicyViolations,
  functionAlarmViolations,
  logRetentionViolations,
  mappingRoleViolations,
  masterLoginViolations,
  openEgressViolations,
  tracingViolations,
  watchedViolations,
} from './support/template-rules';
import { customerKeyViolations, type Exports, keyGrantViolations } from './support/key-rules';
import { PIPELINE_STAGES } from '@dataharvest/shared/stage-time';

/**
 * What AWS would otherwise say at deploy or at 3 a.m., asserted on the packaged templates of every stack in
 * serverless-compose.yml (`npm test` packages them first).
 */
type Resource = Entry['r'];
const stacks = loadComposedStacks('.');
const all = stacks.flatMap((s) => Object.entries(s.template.Resources).map(([id, r]) => ({ stack: s.service, id, r: r as Resource })));
const ofType = (type: string) => all.filter((x) => x.r.Type === type);
const exportsOf: Exports = Object.fromEntries(
  stacks.flatMap((s) =>
    Object.values(s.template.Outputs ?? {})
      .filter((o) => o.Export)
      .map((o) => [String(o.Export!.Name), { stack: s.service, value: o.Value }]),
  ),
);
const json = (v: unknown) => JSON.stringify(v);
const importName = (v: unknown) => (v as { 'Fn::ImportValue'?: string } | undefined)?.['Fn::ImportValue'];

/** Kinesis allows 20 enhanced fan-out consumers per stream (50 in on-demand Advantage mode, which we do not use). */
const CONSUMERS_PER_STREAM = 20;
/** AWS: at most two processes should read a DynamoDB stream shard at once. */
const READERS_PER_DYNAMODB_STREAM = 2;

const functions = ofType('AWS::Lambda::Function');
const env = (f: (typeof functions)[number]) => ((f.r.Properties!.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
const usesPostgres = functions.filter((f) => 'DB_SECRET_ARN' in env(f));

describe('the packaged templates', () => {
  it('hold a PostgreSQL cluster with its generated secret, a proxy and the network path', () => {
    const types = new Set(all.filter((x) => x.stack === 'dataharvest-database').map((x) => x.r.Type));
    for (const type of [
      'AWS::RDS::DBCluster',
      'AWS::RDS::DBInstance',
      'AWS::RDS::DBProxy',
      'AWS::RDS::DBProxyTargetGroup',
      'AWS::SecretsManager::Secret',
      'AWS::SecretsManager::SecretTargetAttachment',
      'AWS::EC2::VPC',
      'AWS::EC2::VPCEndpoint',
    ]) {
      expect(types).toContain(type);
    }
    const [cluster] = ofType('AWS::RDS::DBCluster');
    expect(cluster!.r).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { StorageEncrypted: true, DeletionProtection: true, Engine: 'aurora-postgresql' } });
    expect(json(cluster!.r.Properties!.MasterUserPassword)).toContain('{{resolve:secretsmanager:');
    expect(ofType('AWS::RDS::DBProxy')[0]!.r.Properties).toMatchObject({ RequireTLS: true });
    const endpoints = ofType('AWS::EC2::VPCEndpoint').map((e) => json(e.r.Properties!.ServiceName));
    for (const service of ['s3', 'dynamodb', 'kinesis-streams', 'secretsmanager']) expect(endpoints.some((e) => e.endsWith(`.${service}"}`))).toBe(true);
    const subnets = ofType('AWS::EC2::Subnet').map((s) => json(s.r.Properties!.AvailabilityZone));
    expect(new Set(subnets).size).toBeGreaterThanOrEqual(2);
  });

  it('put every function that uses PostgreSQL, and only those, in the VPC, with ENI permissions and its secret', () => {
    expect(usesPostgres.map((f) => f.id).sort()).toEqual([
      'EraseLambdaFunction',
      'LoadLambdaFunction',
      'PersistLambdaFunction',
      'PublishLambdaFunction',
      'RelateLambdaFunction',
      'TransformLambdaFunction',
      'TransformLambdaFunction',
      'TransformLambdaFunction',
      'TransformLambdaFunction',
    ]);
    for (const f of functions) {
      const vpc = f.r.Properties!.VpcConfig as { SubnetIds?: unknown[]; SecurityGroupIds?: unknown[] } | undefined;
      // The database stack's logins function reaches the proxy through the same network, as the master.
      if (f.stack === 'dataharvest-database' && f.id === 'LoginsLambdaFunction') {
        expect(vpc?.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': ['FunctionSecurityGroup', 'GroupId'] }]);
        continue;
      }
      if (!usesPostgres.includes(f)) {
        expect([f.stack, f.id, vpc]).toEqual([f.stack, f.id, undefined]);
        continue;
      }
      expect(vpc?.SubnetIds?.length).toBeGreaterThanOrEqual(2);
      expect(vpc?.SecurityGroupIds?.map(importName)).toEqual(['dataharvest-dev-function-security-group']);
      // Its service's own login: the database stack's, or the one a transformer's own stack holds, on the cluster.
      const transformer = f.id === 'TransformLambdaFunction';
      const login = transformer ? { Ref: 'DatabaseLogin' } : { 'Fn::ImportValue': `dataharvest-dev-db-${f.stack.replace(/^dataharvest-/, '')}-secret-arn` };
      expect([f.stack, env(f).DB_SECRET_ARN, importName(env(f).DB_HOST)]).toEqual([f.stack, login, transformer ? 'dataharvest-dev-database-cluster-host' : 'dataharvest-dev-database-host']);
      const roleId = (f.r.Properties!.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const role = all.find((x) => x.stack === f.stack && x.id === roleId)!.r.Properties!;
      expect(json(role.ManagedPolicyArns)).toContain('AWSLambdaVPCAccessExecutionRole');
      expect(json(role.Policies)).toContain(`{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":${json(login)}}`);
    }
  });

  it('keep every credential out of function environments', () => {
    for (const f of functions) {
      for (const [name, value] of Object.entries(env(f))) {
        expect([f.id, name]).not.toEqual([f.id, expect.stringMatching(/PASSWORD|TOKEN|SECRET(?!_ARN)|DATABASE_URL|ACCESS_KEY/)]);
        expect([f.id, json(value)]).not.toEqual([f.id, expect.stringMatching(/:\/\/[^/"]*:[^@"]*@|resolve:secretsmanager/)]);
      }
    }
  });

  it("connect every service as its own login, which the proxy accepts, never as the master (but the logins' creator)", () => {
    expect(masterLoginViolations(all)).toEqual([]);
    const declared = Object.keys((JSON.parse(readFileSync('shared/database-access.json', 'utf8')) as { logins: object }).logins);
    const secrets = ofType('AWS::SecretsManager::Secret').map((s) => String(s.r.Properties!.Name));
    for (const service of declared) expect(secrets).toContain(`dataharvest-dev-db-${service}`);
    const proxyAuth = json(ofType('AWS::RDS::DBProxy')[0]!.r.Properties!.Auth);
    const logins = ofType('AWS::SecretsManager::Secret').filter((s) => s.stack === 'dataharvest-database' && String(s.r.Properties!.Name).includes('-db-'));
    for (const l of logins) expect(proxyAuth).toContain(json({ Ref: l.id }));
    // Each transformer's stack holds its own, rotated, and has the database stack's logins function make the login.
    const transformers = functions.filter((f) => f.id === 'TransformLambdaFunction').map((f) => f.stack);
    expect(transformers.length).toBeGreaterThan(0);
    for (const stack of transformers) {
      const name = stack.replace(/^dataharvest-/, '');
      const own = (type: string) => ofType(type).filter((x) => x.stack === stack);
      expect(own('AWS::SecretsManager::Secret').map((s) => s.r.Properties!.Name)).toEqual([`dataharvest-dev-db-${name}`]);
      expect(own('Custom::DatabaseLogin').map((c) => c.r.Properties)).toEqual([
        { ServiceToken: { 'Fn::ImportValue': 'dataharvest-dev-database-logins-function-arn' }, Service: name, SecretArn: { Ref: 'DatabaseLogin' } },
      ]);
      expect(own('AWS::SecretsManager::RotationSchedule').map((r) => json(r.r.Properties!.SecretId))).toEqual([json({ Ref: 'DatabaseLogin' })]);
    }
    expect(json(ofType('Custom::DatabaseLogins')[0]!.r.Properties!.Logins)).toBe(
      json(Object.fromEntries(declared.map((s) => [s, { Ref: logins.find((l) => String(l.r.Properties!.Name).endsWith(`-db-${s}`))!.id }]))),
    );
  });

  it('have no DynamoDB stream with more than two readers', () => {
    const readers = new Map<string, number>();
    for (const m of ofType('AWS::Lambda::EventSourceMapping')) {
      const source = json(m.r.Properties!.EventSourceArn);
      if (source.includes('dynamodb') || source.includes('StreamArn')) readers.set(source, (readers.get(source) ?? 0) + 1);
    }
    expect(Math.max(0, ...readers.values())).toBeLessThanOrEqual(READERS_PER_DYNAMODB_STREAM);
  });

  it('keep the change feed within its consumer quota, with 12 more scaffolded transformers too, each consumer named uniquely', () => {
    const consumers = ofType('AWS::Kinesis::StreamConsumer');
    const feed = consumers.filter((c) => importName(c.r.Properties!.StreamARN) === 'dataharvest-dev-metastore-change-feed-arn');
    expect(feed.map((c) => c.stack).sort()).toEqual([
      'dataharvest-catapult',
      'dataharvest-deposit',
      'dataharvest-history',
      'dataharvest-notifier',
      'dataharvest-privacy',
      'dataharvest-relationship',
      'dataharvest-tax',
      'dataharvest-transaction',
    ]);
    // Every mapping on the feed reads through a consumer of its own (shared-throughput polling allows 5 reads/s in all).
    for (const m of ofType('AWS::Lambda::EventSourceMapping')) expect(json(m.r.Properties!.EventSourceArn)).not.toContain('metastore-change-feed-arn');
    // What every scaffolded transformer deploys (its serverless.yml includes each section).
    const scaffold = yaml.load(readFileSync('shared/transformer.yml', 'utf8').replace(/!\w+ /g, ''), { schema: yaml.FAILSAFE_SCHEMA }) as {
      functions: Record<string, { events?: Array<{ stream?: { consumer?: string } }> }>;
    };
    const perTransformer = Object.values(scaffold.functions)
      .flatMap((f) => f.events ?? [])
      .filter((e) => e.stream?.consumer === 'true').length;
    expect(perTransformer).toBe(1);
    expect(feed.length + 12 * perTransformer).toBeLessThanOrEqual(CONSUMERS_PER_STREAM);
    const names = consumers.map((c) => String(c.r.Properties!.ConsumerName));
    expect(new Set(names).size).toBe(names.length);
  });

  it('encrypt every bucket, table, stream, queue, topic, the database and its secret and log under customer managed keys, and retain what holds client data', () => {
    for (const { id, r } of ofType('AWS::S3::Bucket')) expect([id, json(r.Properties!.BucketEncryption)]).toEqual([id, expect.stringContaining('SSEAlgorithm')]);
    expect(customerKeyViolations(all, exportsOf)).toEqual([]);
    // One key per data class (docs/security.md, "Keys"), each rotated; the alarm topic's besides.
    const keys = ofType('AWS::KMS::Key');
    expect(keys.map((k) => k.id).sort()).toEqual(['AlarmKey', 'DatabaseKey', 'IngestKey', 'MessagingKey', 'MetastoreKey']);
    for (const { id, r } of keys) expect([id, r.Properties!.EnableKeyRotation]).toEqual([id, true]);
    // The root administers; principals of the account use a data key only through the services of its class.
    for (const { id, r } of keys.filter((k) => k.id !== 'AlarmKey')) {
      const statements = (r.Properties!.KeyPolicy as { Statement: Array<{ Action: string[]; Condition?: { StringEquals?: Record<string, unknown> } }> }).Statement;
      expect([id, statements[0]!.Action]).not.toEqual([id, expect.arrayContaining(['kms:Decrypt'])]);
      const use = statements.filter((s) => s.Action.includes('kms:Decrypt') && json(s).includes(':root'));
      expect([id, use.map((s) => s.Condition?.StringEquals?.['kms:ViaService'])]).toEqual([id, [expect.anything()]]);
    }
    const [ingest] = all.filter((x) => x.id === 'S3BucketIngest');
    expect(json(ingest!.r.Properties!.BucketEncryption)).toContain('"BucketKeyEnabled":true');
    const retained = [...ofType('AWS::DynamoDB::Table'), ...ofType('AWS::RDS::DBCluster'), ...ofType('AWS::S3::Bucket').filter((b) => b.id === 'S3BucketIngest')];
    for (const { id, r } of retained) expect([id, r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual([id, 'Retain', 'Retain']);
    // A retained store's key is retained with it: without the key the store cannot be read.
    for (const id of ['MetastoreKey', 'IngestKey', 'DatabaseKey']) expect([id, all.find((x) => x.id === id)!.r.DeletionPolicy]).toEqual([id, 'Retain']);
  });

  it('let every role that reads or writes an encrypted store use exactly its key, as the store asks', () => {
    expect(keyGrantViolations(all, exportsOf)).toEqual([]);
  });

  it('wake each service on the change feed exactly as the state machine declares', () => {
    const onFeed = new Set(
      ofType('AWS::Kinesis::StreamConsumer')
        .filter((c) => importName(c.r.Properties!.StreamARN)?.endsWith('-metastore-change-feed-arn'))
        .map((c) => `${c.stack}/${c.id}`),
    );
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter((m) => onFeed.has(`${m.stack}/${(m.r.Properties!.EventSourceArn as { Ref?: string }).Ref}`));
    expect(mappings.length).toBeGreaterThan(0);
    // A transformer is any service that registers itself; relationship and the catapult have steps of their own.
    const transformers = new Set(ofType('Custom::TransformerRegistration').map((r) => r.stack));
    for (const m of mappings) {
      // A reader deployed onto a stage with history never replays it (docs/metastore.md): only backfill reaches it.
      expect([m.stack, m.r.Properties!.StartingPosition]).toEqual([m.stack, 'LATEST']);
      const patterns = (m.r.Properties!.FilterCriteria as { Filters: Array<{ Pattern: string }> }).Filters.map((f) => JSON.parse(f.Pattern));
      // The notifier and the privacy service make no transition: they observe, with the filter declared for them.
      const observer = m.stack.replace(/^dataharvest-/, '');
      if (observer === 'notifier' || observer === 'privacy') {
        expect(patterns).toEqual([observerFilter(observer)]);
        continue;
      }
      const trigger: keyof typeof TRIGGERS = transformers.has(m.stack) ? 'transform' : m.stack === 'dataharvest-relationship' ? 'relationship' : 'catapult';
      expect([m.stack, patterns]).toEqual([m.stack, [feedFilter(trigger)]]);
    }
  });

  it('alarm on every function, on-failure queue and stream mapping, to the encrypted alarm topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    // The metastore defines the topic (and cannot import its own export); every other stack imports it.
    const topicOf = (stack: string) => (stack === 'dataharvest-metastore' ? { Ref: 'AlarmTopic' } : { 'Fn::ImportValue': 'dataharvest-dev-alarm-topic-arn' });
    for (const { stack, id, r } of alarms) expect([id, r.Properties!.AlarmActions, r.Properties!.OKActions]).toEqual([id, [topicOf(stack)], [topicOf(stack)]]);
    /** What a stack's alarms on one metric watch: their dimension values. */
    const watched = (stack: string, namespace: string, metric: string) =>
      alarms
        .filter((a) => a.stack === stack && a.r.Properties!.Namespace === namespace && a.r.Properties!.MetricName === metric)
        .map((a) => json((a.r.Properties!.Dimensions as Array<{ Value: unknown }>)[0]?.Value));
    expect(functions.length).toBeGreaterThan(0);
    for (const f of functions)
      for (const metric of ['Errors', 'Throttles']) expect([f.stack, metric, watched(f.stack, 'AWS/Lambda', metric)]).toEqual([f.stack, metric, expect.arrayContaining([json({ Ref: f.id })])]);
    const destinations = [...ofType('AWS::Lambda::EventSourceMapping'), ...ofType('AWS::Lambda::EventInvokeConfig')].flatMap((d) => {
      const destination = (d.r.Properties!.DestinationConfig as { OnFailure?: { Destination?: { 'Fn::GetAtt'?: [string] } } } | undefined)?.OnFailure?.Destination;
      return destination ? [{ stack: d.stack, queue: destination['Fn::GetAtt']![0] }] : [];
    });
    expect(new Set(destinations.map((d) => d.stack)).size).toBeGreaterThanOrEqual(8);
    for (const { stack, queue } of destinations)
      expect([stack, watched(stack, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible')]).toEqual([stack, expect.arrayContaining([json({ 'Fn::GetAtt': [queue, 'QueueName'] })])]);
    const streamMappings = ofType('AWS::Lambda::EventSourceMapping').filter((m) => m.r.Properties!.StartingPosition);
    expect(streamMappings.length).toBeGreaterThanOrEqual(7);
    for (const m of streamMappings) {
      const fn = (m.r.Properties!.FunctionName as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      expect([m.stack, m.id, watched(m.stack, 'AWS/Lambda', 'IteratorAge')]).toEqual([m.stack, m.id, expect.arrayContaining([json({ Ref: fn })])]);
    }
    const metastore = stacks.find((s) => s.service === 'dataharvest-metastore')!.template;
    expect(metastore.Resources.AlarmTopic!.Properties!.KmsMasterKeyId).toEqual({ Ref: 'AlarmKey' });
    // CloudWatch can publish to an encrypted topic only if the key's policy lets it use the key (alias/aws/sns does not).
    expect(json(metastore.Resources.AlarmKey!.Properties!.KeyPolicy)).toContain('{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey*"]');
    expect(metastore.Outputs!.AlarmTopicArn).toMatchObject({ Value: { Ref: 'AlarmTopic' }, Export: { Name: 'dataharvest-dev-alarm-topic-arn' } });
  });

  it("keep every log group for a limited time, the database's and the VPC flow logs' included", () => {
    expect(logRetentionViolations(all)).toEqual([]);
    const groups = ofType('AWS::Logs::LogGroup');
    // One per function, the database's postgresql log, the flow logs.
    expect(groups.length).toBe(functions.length + 2);
    for (const { stack, id, r } of groups) expect([stack, id, r.Properties!.RetentionInDays]).toEqual([stack, id, id === 'FlowLogGroup' ? 365 : 30]);
  });

  it('move settled files to colder storage, expire refused ones and abort stale multipart uploads in the ingest bucket', () => {
    const [ingest] = all.filter((x) => x.id === 'S3BucketIngest');
    const rules = (ingest!.r.Properties!.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Status: 'Enabled', Prefix: 'archive/', Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }] }),
        expect.objectContaining({ Status: 'Enabled', Prefix: 'quarantine/', ExpirationInDays: 365 }),
        expect.objectContaining({ Status: 'Enabled', Prefix: 'errors/', ExpirationInDays: 365 }),
        expect.objectContaining({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
      ]),
    );
    // Nothing under incoming/ expires: a file waiting there has not been loaded yet.
    for (const rule of rules) expect([rule.Id, rule.Prefix, rule.ExpirationInDays]).not.toEqual([rule.Id, expect.stringMatching(/^incoming/), expect.anything()]);
  });

  it('run every function on the newest Node.js runtime the framework accepts', () => {
    expect(new Set(functions.map((f) => f.r.Properties!.Runtime))).toEqual(new Set(['nodejs24.x']));
  });

  it('grant every stream mapping what AWS checks when it creates the mapping', () => {
    expect(ofType('AWS::Lambda::EventSourceMapping').length).toBeGreaterThanOrEqual(8);
    expect(mappingRoleViolations(all)).toEqual([]);
  });

  it('send OpenLineage run events where the stage says, granting kinesis:PutRecord on exactly that stream when it is one', () => {
    // The steps (a transformer's register function has the provider's variable too, and emits nothing).
    const emitting = functions.filter((f) => 'OPENLINEAGE_DESTINATION' in env(f) && f.id !== 'RegisterLambdaFunction');
    expect(emitting.map((f) => f.id).sort()).toEqual(
      usesPostgres
        .map((f) => f.id)
        .filter((id) => id !== 'EraseLambdaFunction')
        .sort(),
    );
    const lineageStacks = stacks.filter((s) => emitting.some((f) => f.stack === s.service));
    for (const f of emitting) {
      expect(env(f).OPENLINEAGE_DESTINATION).toEqual({ Ref: 'OpenLineageDestination' });
      expect(f.r.Properties!.Role).toEqual({ 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] });
    }
    const allowed = new RegExp(String((lineageStacks[0]!.template.Parameters!.OpenLineageDestination as { AllowedPattern?: string }).AllowedPattern));
    expect(['', 'https://marquez.example/api/v1/lineage', 'kinesis:dataharvest-lineage-dev'].filter((d) => !allowed.test(d))).toEqual([]);
    // The VPC's Kinesis endpoint admits the stage's streams only; the local cloud's file is no AWS destination.
    expect(['kinesis:lineage', 'kinesis:dataharvest-lineage-prod', 'file:/tmp/openlineage.jsonl', 'off'].filter((d) => allowed.test(d))).toEqual([]);
    // Each stack's condition and policy as CloudFormation evaluates them, for each kind of destination.
    const granted = (stack: Stack, destination: string) => {
      const resolver = new Resolver(stack, new Map([['IamRoleLambdaExecution', { ref: 'role', attributes: {} }]]), {}, { OpenLineageDestination: destination });
      if (!conditionValues(stack.template, resolver, stack.stackName).get('LineageToKinesis')) return undefined;
      const policy = stack.template.Resources.LineageStreamAccess!;
      expect(policy).toMatchObject({ Type: 'AWS::IAM::Policy', Condition: 'LineageToKinesis' });
      return resolver.resolve(policy.Properties);
    };
    for (const stack of lineageStacks) {
      expect(granted(stack, 'kinesis:dataharvest-lineage-dev')).toEqual({
        PolicyName: 'openlineage-stream',
        Roles: ['role'],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['kinesis:PutRecord'], Resource: 'arn:aws:kinesis:eu-central-1:000000000000:stream/dataharvest-lineage-dev' }],
        },
      });
      expect([granted(stack, 'https://marquez.example/api/v1/lineage'), granted(stack, '')]).toEqual([undefined, undefined]);
      // Off unless the stage says otherwise (shared/openlineage.yml).
      expect(stack.template.Parameters!.OpenLineageDestination!.Default).toBe('');
    }
  });

  it("close the network: endpoint policies name the stage's resources only, no egress to the internet, flow logs on", () => {
    expect(ofType('AWS::EC2::VPCEndpoint').length).toBe(4);
    expect(endpointPolicyViolations(all, 'dev')).toEqual([]);
    expect(openEgressViolations(all)).toEqual([]);
    // The functions' 443 goes to the gateway endpoints' prefix lists and the interface endpoints' group only.
    const fnGroup = all.find((x) => x.id === 'FunctionSecurityGroup')!.r.Properties!;
    for (const rule of fnGroup.SecurityGroupEgress as Array<Record<string, unknown>>)
      expect(rule).toMatchObject({ FromPort: 443, ToPort: 443, DestinationPrefixListId: expect.stringMatching(/^pl-/) });
    const extra = ofType('AWS::EC2::SecurityGroupEgress').map((e) => [e.r.Properties!.FromPort, json(e.r.Properties!.DestinationSecurityGroupId)]);
    expect(extra.sort()).toEqual([
      [443, json({ 'Fn::GetAtt': ['EndpointSecurityGroup', 'GroupId'] })],
      // The transformers' logins are not the proxy's: they reach the cluster (docs/security.md, "Database logins").
      [5432, json({ 'Fn::GetAtt': ['ClusterSecurityGroup', 'GroupId'] })],
      [5432, json({ 'Fn::GetAtt': ['ProxySecurityGroup', 'GroupId'] })],
    ]);
  });

  it('alarm on every function near its timeout, and on the change feed replication, streams, cluster and proxy', () => {
    expect(functionAlarmViolations(all)).toEqual([]);
    expect(watchedViolations(all)).toEqual([]);
    expect(ofType('AWS::CloudWatch::Dashboard').map((d) => d.r.Properties!.DashboardName)).toEqual(['dataharvest-dev']);
  });

  it('alarm once on a batch stuck in each pipeline stage longer than shared/operations.yml allows', () => {
    const { stuckStageMinutes } = yaml.load(readFileSync('shared/operations.yml', 'utf8')) as { stuckStageMinutes: Record<string, number> };
    const stuck = ofType('AWS::CloudWatch::Alarm').filter((a) => a.r.Properties!.MetricName === 'BatchStageTime');
    // The services' metric has the dimension stage alone, so one alarm per stage in one stack hears every service.
    const alarmOf = (stage: string) => stuck.filter((a) => json(a.r.Properties!.Dimensions) === json([{ Name: 'stage', Value: stage }]));
    expect(stuck).toHaveLength(PIPELINE_STAGES.length);
    for (const stage of PIPELINE_STAGES)
      expect(alarmOf(stage).map((a) => [a.stack, a.r.Properties!.Statistic, a.r.Properties!.Threshold])).toEqual([['dataharvest-metastore', 'Maximum', stuckStageMinutes[stage]! * 60]]);
    // The delivery check lists each stage's batches for the age of one that never moves.
    const delivery = functions.find((f) => f.stack === 'dataharvest-delivery')!;
    const role = all.find((x) => x.stack === delivery.stack && x.id === (delivery.r.Properties!.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0])!;
    expect(json(role.r.Properties!.Policies)).toContain('"dynamodb:Query"],"Resource":{"Fn::Join":["",[{"Fn::ImportValue":"dataharvest-dev-metastore-table-arn"},"/index/by-stage"]]}');
  });

  it('trace every function with X-Ray', () => {
    expect(tracingViolations(all)).toEqual([]);
  });

  it('log no statement or DETAIL from the database, keep 14 days of backups and upgrade only on purpose', () => {
    const [cluster] = ofType('AWS::RDS::DBCluster');
    const parameters = all.find((x) => x.id === 'DatabaseParameters')!.r.Properties!.Parameters;
    expect(parameters).toMatchObject({ log_error_verbosity: 'terse', log_min_error_statement: 'panic' });
    expect(Number(cluster!.r.Properties!.BackupRetentionPeriod)).toBeGreaterThanOrEqual(14);
    // Pinned minor version, so no instance may upgrade on its own: the next deploy would be a downgrade.
    expect(String(cluster!.r.Properties!.EngineVersion)).toMatch(/^\d+\.\d+$/);
    const instances = ofType('AWS::RDS::DBInstance');
    expect(instances.map((i) => i.id).sort()).toEqual(['DatabaseReader', 'DatabaseWriter']);
    for (const i of instances) expect([i.id, i.r.Properties!.AutoMinorVersionUpgrade, i.r.DeletionPolicy]).toEqual([i.id, false, 'Retain']);
    expect((instances.find((i) => i.id === 'DatabaseReader')!.r as { Condition?: string }).Condition).toBe('WithReader');
    // The retained cluster keeps using its secret: the secret is retained with it.
    expect(all.find((x) => x.id === 'DatabaseSecret')!.r).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('keep the ingest bucket recoverable and audited, and let it take uploads only under incoming/<client>/', () => {
    const ingest = all.find((x) => x.id === 'S3BucketIngest')!;
    const p = ingest.r.Properties!;
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const rules = (p.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> }).Rules;
    expect(rules).toContainEqual(expect.objectContaining({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }));
    const logs = all.find((x) => x.stack === ingest.stack && x.id === (p.LoggingConfiguration as { DestinationBucketName: { Ref: string } }).DestinationBucketName.Ref)!;
    expect(logs.r).toMatchObject({ Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain' });
    expect(json(logs.r.Properties!.LifecycleConfiguration)).toContain('"ExpirationInDays":365');
    const notification = (p.NotificationConfiguration as { LambdaConfigurations: Array<{ Filter?: unknown }> }).LambdaConfigurations;
    for (const n of notification) expect(n.Filter).toEqual({ S3Key: { Rules: [{ Name: 'prefix', Value: 'incoming/' }] } });
    const policy = json(all.find((x) => x.id === 'IngestBucketPolicy')!.r.Properties!.PolicyDocument);
    expect(policy).toContain('"Sid":"DenyWritesOutsideOwnClientFolder","Effect":"Deny","Principal":"*","Action":"s3:PutObject","NotResource"');
    // The session's own client tag, as the uploader role names it (a literal policy variable, Fn::Sub-escaped).
    expect(policy).toContain(['/incoming/$', '{!aws:PrincipalTag/client}/*'].join(''));
  });
});

/** Each rule above, seen to fail: the same templates with one thing broken. */
describe('the template rules, on a deliberately broken template', () => {
  const broken = (id: string, stack: string | undefined, change: (r: Resource) => void): Entry[] => {
    const copy = structuredClone(all) as Entry[];
    const target = copy.find((x) => x.id === id && (!stack || x.stack === stack));
    if (!target) throw new Error(`no ${id} to break`);
    change(target.r);
    return copy;
  };
  const statements = (r: Resource) => (r.Properties!.Policies as Array<{ PolicyDocument: { Statement: Array<{ Action: string[] }> } }>)[0]!.PolicyDocument.Statement;
  const without = (r: Resource, action: string) => {
    for (const s of statements(r)) s.Action = [s.Action].flat().filter((a) => a !== action);
  };

  it('a Kinesis mapping whose role lacks ListShards, DescribeStream or SubscribeToShard', () => {
    expect(mappingRoleViolations(broken('IamRoleLambdaExecution', 'dataharvest-loader', (r) => without(r, 'kinesis:ListShards')))).toEqual([
      expect.stringMatching(/^dataharvest-loader\/.*lacks kinesis:ListShards/),
    ]);
    expect(mappingRoleViolations(broken('IamRoleLambdaExecution', 'dataharvest-tax', (r) => without(r, 'kinesis:DescribeStream')))).toEqual([
      expect.stringMatching(/^dataharvest-tax\/.*lacks kinesis:DescribeStream/),
    ]);
    expect(mappingRoleViolations(broken('IamRoleLambdaExecution', 'dataharvest-tax', (r) => without(r, 'kinesis:SubscribeToShard')))).toEqual([
      expect.stringMatching(/^dataharvest-tax\/.*lacks kinesis:SubscribeToShard/),
    ]);
  });

  it('a DynamoDB or SQS mapping whose role lacks what AWS requires', () => {
    const withMapping = (source: unknown) =>
      broken('LoadEventSourceMappingKinesisChunkStream', 'dataharvest-loader', (r) => {
        r.Properties!.EventSourceArn = source;
      });
    expect(mappingRoleViolations(withMapping({ 'Fn::GetAtt': ['FailureQueue', 'Arn'] }))).toEqual([expect.stringMatching(/lacks sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes/)]);
    expect(mappingRoleViolations(withMapping({ 'Fn::GetAtt': ['SomeTable', 'StreamArn'] }))).toEqual([expect.stringMatching(/lacks dynamodb:DescribeStream, dynamodb:GetRecords/)]);
  });

  it('a function environment or role using the master login', () => {
    const master = { 'Fn::ImportValue': 'dataharvest-dev-database-secret-arn' };
    expect(
      masterLoginViolations(
        broken('TransformLambdaFunction', 'dataharvest-tax', (r) => {
          (r.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.DB_SECRET_ARN = master;
        }),
      ),
    ).toEqual(["dataharvest-tax/TransformLambdaFunction: its environment names the master login's secret"]);
    expect(
      masterLoginViolations(
        broken('IamRoleLambdaExecution', 'dataharvest-relationship', (r) => statements(r).push({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: master } as never)),
      ),
    ).toEqual(["dataharvest-relationship/RelateLambdaFunction: its role IamRoleLambdaExecution may read the master login's secret"]);
  });

  it('a gateway endpoint without a policy, or one naming every resource', () => {
    expect(
      endpointPolicyViolations(
        broken('S3Endpoint', undefined, (r) => delete r.Properties!.PolicyDocument),
        'dev',
      ),
    ).toEqual(['dataharvest-database/S3Endpoint: no endpoint policy']);
    const star = broken('DynamoDbEndpoint', undefined, (r) => {
      (r.Properties!.PolicyDocument as { Statement: Array<{ Resource: unknown }> }).Statement[0]!.Resource = '*';
    });
    expect(endpointPolicyViolations(star, 'dev')).toEqual(['dataharvest-database/DynamoDbEndpoint: its policy names "*"']);
  });

  it('an egress rule to 0.0.0.0/0', () => {
    const open = broken('FunctionSecurityGroup', undefined, (r) => {
      (r.Properties!.SecurityGroupEgress as unknown[]).push({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' });
    });
    expect(openEgressViolations(open)).toEqual(['dataharvest-database/FunctionSecurityGroup: egress to the internet']);
  });

  it("a log group without retention, the database's log left to RDS, a VPC without flow logs", () => {
    expect(logRetentionViolations(broken('PersistLogGroup', undefined, (r) => delete r.Properties!.RetentionInDays))).toEqual(['dataharvest-persistence/PersistLogGroup: no retention']);
    expect(logRetentionViolations(broken('DatabaseCluster', undefined, (r) => delete r.DependsOn))).toEqual([expect.stringMatching(/DatabaseCluster: its postgresql log has no log group/)]);
    expect(logRetentionViolations(broken('DatabaseLogGroup', undefined, (r) => delete r.Properties!.RetentionInDays))).toEqual(['dataharvest-database/DatabaseLogGroup: no retention']);
    expect(logRetentionViolations(broken('VpcFlowLog', undefined, (r) => (r.Properties!.ResourceId = 'vpc-other')))).toEqual(['dataharvest-database/Vpc: no flow log']);
  });

  it('a function without an Errors, Throttles or near-timeout alarm', () => {
    for (const [alarm, metric] of [
      ['PublishErrorsAlarm', 'Errors'],
      ['PublishThrottlesAlarm', 'Throttles'],
      ['PublishNearTimeoutAlarm', 'Duration'],
    ] as const)
      expect(functionAlarmViolations(broken(alarm, undefined, (r) => (r.Type = 'AWS::CloudFormation::WaitConditionHandle')))).toEqual([
        `dataharvest-catapult/PublishLambdaFunction: no ${metric} alarm`,
      ]);
    expect(functionAlarmViolations(broken('PublishNearTimeoutAlarm', undefined, (r) => (r.Properties!.Threshold = 300000)))).toEqual([
      'dataharvest-catapult/PublishLambdaFunction: its Duration alarm fires only at or past its timeout',
    ]);
  });

  it('the metastore replication, a stream, the cluster or the proxy unwatched', () => {
    const gone = (id: string) => watchedViolations(broken(id, undefined, (r) => (r.Type = 'AWS::CloudFormation::WaitConditionHandle')));
    expect(gone('MetastoreTableReplicationAgeAlarm')).toEqual(['dataharvest-metastore/MetastoreTable: replication (AgeOfOldestUnreplicatedRecord) unwatched']);
    expect(gone('MetastoreTableReplicationThrottlesAlarm')).toEqual(['dataharvest-metastore/MetastoreTable: replication (ThrottledPutRecordCount) unwatched']);
    expect(gone('ChunkStreamWriteThrottlesAlarm')).toEqual(['dataharvest-loader/ChunkStream: write throttling unwatched']);
    expect(gone('DatabaseClusterCapacityAlarm')).toEqual(['dataharvest-database/DatabaseCluster: ACUUtilization unwatched']);
    expect(gone('DatabaseProxyBorrowLatencyAlarm')).toEqual(['dataharvest-database/DatabaseProxy: DatabaseConnectionsBorrowLatency unwatched']);
  });

  it('a data store without a customer managed key, or under a key without rotation', () => {
    const gone = (id: string, stack: string | undefined, change: (p: Record<string, unknown>) => void) =>
      customerKeyViolations(
        broken(id, stack, (r) => change(r.Properties!)),
        exportsOf,
      );
    expect(gone('MetastoreTable', undefined, (p) => (p.SSESpecification = { SSEEnabled: true }))).toEqual(['dataharvest-metastore/MetastoreTable: no customer managed key with rotation']);
    expect(gone('ChangeFeed', undefined, (p) => (p.StreamEncryption = { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }))).toEqual([
      'dataharvest-metastore/ChangeFeed: no customer managed key with rotation',
    ]);
    expect(gone('S3BucketIngest', undefined, (p) => (p.BucketEncryption = { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] }))).toEqual([
      'dataharvest-persistence/S3BucketIngest: no customer managed key with rotation',
    ]);
    expect(gone('FailureQueue', 'dataharvest-catapult', (p) => Object.assign(p, { KmsMasterKeyId: undefined, SqsManagedSseEnabled: true }))).toEqual([
      'dataharvest-catapult/FailureQueue: no customer managed key with rotation',
    ]);
    expect(gone('NotificationsTopic', undefined, (p) => (p.KmsMasterKeyId = 'alias/aws/sns'))).toEqual(['dataharvest-notifier/NotificationsTopic: no customer managed key with rotation']);
    expect(gone('EventsStream', undefined, (p) => delete p.StreamEncryption)).toEqual(['dataharvest-catapult/EventsStream: no customer managed key with rotation']);
    expect(gone('DatabaseCluster', undefined, (p) => delete p.KmsKeyId)).toEqual(['dataharvest-database/DatabaseCluster: no customer managed key with rotation']);
    expect(gone('DatabaseSecret', undefined, (p) => delete p.KmsKeyId)).toEqual(['dataharvest-database/DatabaseSecret: no customer managed key with rotation']);
    expect(gone('DatabaseLogGroup', undefined, (p) => delete p.KmsKeyId)).toEqual(['dataharvest-database/DatabaseLogGroup: no customer managed key with rotation']);
    expect(gone('MessagingKey', undefined, (p) => (p.EnableKeyRotation = false))).toHaveLength(ofType('AWS::SQS::Queue').length + 3);
  });

  it('a role that reads or writes an encrypted store without its key', () => {
    const withoutKms = (id: string, stack: string) =>
      keyGrantViolations(
        broken(id, stack, (r) => {
          for (const s of statements(r)) s.Action = [s.Action].flat().filter((a) => !a.startsWith('kms:'));
        }),
        exportsOf,
      );
    expect(withoutKms('IamRoleLambdaExecution', 'dataharvest-catapult')).toEqual(
      expect.arrayContaining([
        'dataharvest-catapult/IamRoleLambdaExecution: lacks kms:GenerateDataKey on dataharvest-metastore/MessagingKey (kinesis:PutRecords on EventsStream)',
        'dataharvest-catapult/IamRoleLambdaExecution: lacks kms:Decrypt on dataharvest-metastore/MetastoreKey (kinesis:GetRecords on ChangeFeed)',
        expect.stringMatching(/^dataharvest-catapult\/IamRoleLambdaExecution: lacks kms:Decrypt on dataharvest-database\/DatabaseKey \(secretsmanager:GetSecretValue on \w+\)$/),
      ]),
    );
    expect(withoutKms('UploaderRole', 'dataharvest-persistence')).toEqual([
      'dataharvest-persistence/UploaderRole: lacks kms:Decrypt on dataharvest-metastore/IngestKey (s3:PutObject on S3BucketIngest)',
      'dataharvest-persistence/UploaderRole: lacks kms:GenerateDataKey on dataharvest-metastore/IngestKey (s3:PutObject on S3BucketIngest)',
    ]);
    // A grant on another key than the store's is no grant.
    const wrongKey = broken('IamRoleLambdaExecution', 'dataharvest-delivery', (r) => {
      for (const s of statements(r) as Array<{ Action: string[]; Resource?: unknown }>) if (s.Action.includes('kms:Decrypt')) s.Resource = { 'Fn::ImportValue': 'dataharvest-dev-messaging-key-arn' };
    });
    expect(keyGrantViolations(wrongKey, exportsOf)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^dataharvest-delivery\/IamRoleLambdaExecution: lacks kms:Decrypt on dataharvest-metastore\/MetastoreKey/)]),
    );
    const rotations = ofType('AWS::SecretsManager::RotationSchedule').filter((r) => r.r.Properties!.HostedRotationLambda);
    expect(rotations.length).toBeGreaterThan(0);
    const unkeyed = broken(rotations[0]!.id, rotations[0]!.stack, (r) => delete (r.Properties!.HostedRotationLambda as Record<string, unknown>).KmsKeyArn);
    expect(keyGrantViolations(unkeyed, exportsOf)).toEqual([`${rotations[0]!.stack}/${rotations[0]!.id}: its rotation function is not given dataharvest-database/DatabaseKey`]);
  });

  it('a function not traced, or whose role may not write traces', () => {
    expect(tracingViolations(broken('PublishLambdaFunction', undefined, (r) => delete r.Properties!.TracingConfig))).toEqual(['dataharvest-catapult/PublishLambdaFunction: not traced']);
    const register = broken('RegisterRole', 'dataharvest-tax', (r) => (r.Properties!.ManagedPolicyArns = [(r.Properties!.ManagedPolicyArns as string[])[0]]));
    expect(tracingViolations(register)).toEqual(['dataharvest-tax/RegisterLambdaFunction: role RegisterRole may not write traces']);
  });
});
