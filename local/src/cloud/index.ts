import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { deployInDependencyOrder, loadComposedStacks } from './cloudformation/compose';
import { CustomResources } from './providers/custom-resources';
import { DATABASE_RESOURCES, LocalDatabaseResources, NETWORK_RESOURCES, recordNetworkResource } from './providers/database';
import { CloudError } from './errors';
import { compileFilters } from './event-sources/filter';
import { reservedKeys } from './lambda/function-environment';
import { roleStatements, startIamProxy, type IamProxy, type Statement } from './iam/proxy';
import { bucketPolicyStatements, deniedByBucketPolicy, s3RequestContext } from './iam/bucket-policy';
import { assumeRole, type RoleSession } from './iam/sessions';
import { createAsyncInvoker, type AsyncConfig } from './event-sources/async-invoke';
import { eventInvokeConfig, streamMappingConfig } from './event-sources/mapping-config';
import { type Precision, startChangeFeed } from './event-sources/change-feed';
import type { GaveUp } from './event-sources/failure-destination';
import { matchS3Event, matchS3Rule, s3NotificationEvent, type S3Rule } from './event-sources/s3-notifications';
import { startStreamPoller, type StreamPoller } from './event-sources/stream-poller';
import { dynamodbSource, kinesisSource } from './event-sources/stream-sources';
import { createResource, DATA_RESOURCES, notCreated, type Clients } from './providers/data-stores';
import { RECORDED_RESOURCES, recordedNotices, recordResource } from './providers/recorded';
import { declaredNode, nodeMajor } from './lambda/node-binary';
import { Runtime, type Progress } from './lambda/runtime';
import { ACCOUNT, REGION } from './account';
import { type Ports, startServices, type Services } from './emulators/services';
import { checkOverrides, stackParameters } from './cloudformation/parameters';
import { createSnsResource, SNS_RESOURCES } from './providers/sns';
import { arn } from './account';
import { artifactOf, deployOrder, loadStack, Resolver, type Physical, type Resource, type Stack } from './cloudformation/template';
import { removeBundle, unzip } from './lambda/unzip';

export interface LocalCloud extends Services {
  stage: string;
  /** CloudFormation export name -> resolved value. */
  exports: Record<string, string>;
  /** Deployed function names (FunctionName from the templates). */
  functions: string[];
  /** Deploys one more packaged service at runtime (a newly scaffolded transformer). */
  deploy(serviceDir: string): Promise<void>;
  /** Synchronous invocation; rejects with the function's error. */
  invoke(functionName: string, event: unknown): Promise<unknown>;
  /** Test hook (the chaos suite): kills the function's running containers mid-invocation (runtime.ts); how many. */
  killContainers(functionName: string): number;
  /** A session of one of the templates' roles, as STS AssumeRole with session tags gives it (sessions.ts). */
  assumeRole(roleArn: string, opts: { caller: string; tags?: Record<string, string> }): Promise<RoleSession>;
  /** Resolves once no invocation runs, no asynchronous invocation is pending and every poller is caught up, for quietMs in a row. */
  idle(opts?: { quietMs?: number; timeoutMs?: number }): Promise<void>;
  on(event: 'invoke' | 'result' | 'error', listener: (e: Progress) => void): void;
  on(event: 'log', listener: (e: { line: string; functionName?: string }) => void): void;
  /** An event or stream record whose retries ran out: it went to the function's on-failure destination. */
  on(event: 'gave-up', listener: (e: GaveUp) => void): void;
  stop(): Promise<void>;
}

type Props = Record<string, unknown>;
/** The framework's own resources: the code already is local, so its deployment bucket is never created. */
const FRAMEWORK_INTERNALS = new Set(['ServerlessDeploymentBucket']);
const functionName = (functionArn: string) => functionArn.split(':').pop()!;
const filterPatterns = (mapping: Props) => ((mapping.FilterCriteria as { Filters?: Array<{ Pattern: string }> } | undefined)?.Filters ?? []).map((f) => f.Pattern);

/** What one deployed stack runs, so that deploying it again replaces rather than duplicates it. */
interface Deployment {
  pollers: StreamPoller[];
  rules: S3Rule[];
}

/**
 * The local cloud: the emulated services, plus every packaged stack of serverless-compose.yml deployed onto them,
 * functions and their event sources included. It runs the very templates `serverless deploy` would.
 */
export interface CloudOptions {
  dataDir?: string;
  root?: string;
  log?: (line: string, functionName?: string) => void;
  ports?: Ports;
  /** Template parameter values by name, for every stack that declares the parameter (parameters.ts). */
  parameters?: Record<string, string>;
}

export async function startCloud(opts: CloudOptions = {}): Promise<LocalCloud> {
  const events = new EventEmitter();
  // EventEmitter throws on an 'error' nobody listens to; progress is optional for the caller.
  const emit = (kind: string, e: unknown) => {
    if (events.listenerCount(kind)) events.emit(kind, e);
  };
  const log = (line: string, functionName?: string) => {
    opts.log?.(line, functionName);
    emit('log', { line, functionName });
  };
  const root = resolve(opts.root ?? process.cwd());
  const stacks = loadComposedStacks(root);
  checkOverrides(stacks, opts.parameters ?? {});
  const services = await startServices({ dataDir: opts.dataDir, log, ports: opts.ports });
  const aws = { region: REGION, credentials: { accessKeyId: services.env.AWS_ACCESS_KEY_ID!, secretAccessKey: services.env.AWS_SECRET_ACCESS_KEY! } };
  const clients: Clients & { streams: DynamoDBStreamsClient; sns: SNSClient } = {
    dynamodb: new DynamoDBClient({ ...aws, endpoint: services.endpoints.dynamodb }),
    streams: new DynamoDBStreamsClient({ ...aws, endpoint: services.endpoints.dynamodb }),
    kinesis: new KinesisClient({ ...aws, endpoint: services.endpoints.kinesis, requestHandler: new NodeHttpHandler() }),
    s3: new S3Client({ ...aws, endpoint: services.endpoints.s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    sqs: new SQSClient({ ...aws, endpoint: services.endpoints.sqs }),
    sns: new SNSClient({ ...aws, endpoint: services.endpoints.sns }),
  };
  const runtime = new Runtime(log, emit);
  const invoke = (fn: string, event: unknown, source = 'invoke') => runtime.invoke(fn, event, source);
  const gaveUp = (e: GaveUp) => emit('gave-up', e);
  const asyncInvoker = createAsyncInvoker({ invoke, sqs: clients.sqs, log, gaveUp });
  const customResources = new CustomResources();
  const databaseResources = new LocalDatabaseResources(services.postgres, services.secrets);
  const runtimesTold = new Set<string>();
  const exports: Record<string, string> = {};
  const exportedBy = new Map<string, string>();
  const queueUrls = new Map<string, string>();
  const asyncConfigs = new Map<string, AsyncConfig>();
  const deployments = new Map<string, Deployment>();
  const iamProxies = new Map<string, IamProxy>();
  /** Role ARN -> its resolved properties, for assumeRole; and the sessions handed out, stopped with the cloud. */
  const roles = new Map<string, () => Record<string, unknown>>();
  const sessions: RoleSession[] = [];
  /** Bucket name -> its bucket policy's statements, which every function's IAM proxy also applies. */
  const bucketPolicies = new Map<string, Statement[]>();
  let stopping: Promise<void> | undefined;

  services.s3Events((event) => {
    const record = event.Records[0];
    if (!record || stopping) return;
    for (const rule of [...deployments.values()].flatMap((d) => d.rules)) {
      if (rule.bucket !== record.s3.bucket.name || !matchS3Event(record.eventName, rule.events) || !matchS3Rule(record.s3.object.key, rule)) continue;
      asyncInvoker.invokeAsync(rule.functionName, s3NotificationEvent(event, `${rule.functionName}-notification`), asyncConfigs.get(rule.functionName) ?? { maxRetryAttempts: 2 });
    }
  });

  async function deploy(stack: Stack): Promise<void> {
    const previous = deployments.get(stack.stackName);
    if (previous) await Promise.all(previous.pollers.map((p) => p.stop()));
    const deployment: Deployment = { pollers: [], rules: [] };
    deployments.set(stack.stackName, deployment);
    const physical = new Map<string, Physical>();
    const resolver = new Resolver(stack, physical, exports, stackParameters(stack, opts.parameters));
    for (const id of deployOrder(stack.template)) {
      const r = stack.template.Resources[id]!;
      // An emulator refusing a resource is a deploy failure like CloudFormation's: one line naming the resource.
      const created = await deployResource(stack, id, r, resolver, deployment).catch((e: Error) => {
        throw e instanceof CloudError ? e : new CloudError(`${stack.stackName}: could not create ${id} (${r.Type}): ${e.message}`);
      });
      physical.set(id, created);
    }
    for (const notice of recordedNotices(stack.stackName, stack.template)) log(notice);
    for (const output of Object.values(stack.template.Outputs ?? {})) {
      if (!output.Export) continue;
      const name = String(resolver.resolve(output.Export.Name));
      const owner = exportedBy.get(name);
      if (owner && owner !== stack.stackName) throw new CloudError(`${stack.stackName} exports ${name}, which ${owner} already exports`);
      exports[name] = String(resolver.resolve(output.Value));
      exportedBy.set(name, stack.stackName);
    }
  }

  /** Creates (or wires) one resource and returns what Ref and Fn::GetAtt answer for it. */
  async function deployResource(stack: Stack, id: string, r: Resource, resolver: Resolver, deployment: Deployment): Promise<Physical> {
    if (FRAMEWORK_INTERNALS.has(id)) return notCreated(id, r, resolver, stack.stackName);
    const props = () => resolver.resolve(r.Properties ?? {}) as Props;
    if (DATA_RESOURCES.has(r.Type)) {
      const created = await createResource(id, r, resolver, stack.stackName, clients);
      if (r.Type === 'AWS::SQS::Queue') queueUrls.set(created.attributes.Arn!, created.ref);
      if (r.Type === 'AWS::S3::Bucket') deployment.rules.push(...notificationRules(created.ref, props()));
      const spec = props().KinesisStreamSpecification as { StreamArn?: string; ApproximateCreationDateTimePrecision?: Precision } | undefined;
      const feed = spec?.StreamArn;
      if (r.Type === 'AWS::DynamoDB::Table' && feed) {
        const precision = spec.ApproximateCreationDateTimePrecision ?? 'MICROSECOND';
        deployment.pollers.push(await startChangeFeed({ tableName: created.ref, kinesisStreamArn: feed, precision, clients, log, checkpointFile: checkpointFile(`change-feed-${created.ref}`, feed) }));
      }
      return created;
    }
    if (DATABASE_RESOURCES.has(r.Type)) return databaseResources.create(stack.stackName, id, r.Type, props());
    if (SNS_RESOURCES.has(r.Type)) return createSnsResource(`${stack.stackName}: ${id} (${r.Type})`, r.Type, props(), `${stack.stackName}-${id}`, clients.sns);
    if (NETWORK_RESOURCES.has(r.Type)) return recordNetworkResource(stack.stackName, id, r.Type, props());
    if (RECORDED_RESOURCES.has(r.Type)) return recordResource(stack.stackName, id, r.Type, props());
    switch (r.Type) {
      case 'AWS::IAM::Role': {
        const role = notCreated(id, r, resolver, stack.stackName);
        roles.set(role.attributes.Arn!, props);
        return role;
      }
      case 'AWS::Lambda::Function':
        return deployFunction(stack, id, r, resolver);
      case 'AWS::Lambda::Version': {
        const fnArn = arn.function(functionName(String(resolver.resolve(r.Properties!.FunctionName))));
        return { ref: `${fnArn}:1`, attributes: { Version: '1', FunctionArn: fnArn } };
      }
      case 'AWS::Lambda::EventInvokeConfig': {
        const p = props();
        asyncConfigs.set(
          functionName(String(p.FunctionName)),
          eventInvokeConfig(p, (q) => queueUrls.get(q)),
        );
        break;
      }
      case 'AWS::S3::BucketPolicy': {
        const p = props();
        bucketPolicies.set(String(p.Bucket), bucketPolicyStatements(`${stack.stackName}: bucket policy ${id}`, p.PolicyDocument as { Statement?: unknown }));
        break;
      }
      case 'AWS::Kinesis::StreamConsumer': {
        // An enhanced fan-out consumer: locally its mapping reads the stream itself (there is no shared throughput to spare).
        const p = props();
        const consumerArn = `${String(p.StreamARN)}/consumer/${String(p.ConsumerName)}:1`;
        return { ref: consumerArn, attributes: { ConsumerARN: consumerArn, ConsumerName: String(p.ConsumerName), StreamARN: String(p.StreamARN), ConsumerStatus: 'ACTIVE' } };
      }
      case 'AWS::Lambda::EventSourceMapping': {
        const p = props();
        // CreateEventSourceMapping refuses an invalid pattern, enabled mapping or not.
        try {
          compileFilters(filterPatterns(p));
        } catch (e) {
          throw new CloudError(`${stack.stackName}: event source mapping ${id} of function ${functionName(String(p.FunctionName))}: ${(e as Error).message}`);
        }
        if (p.Enabled !== false && p.Enabled !== 'false') deployment.pollers.push(startMapping(p));
        break;
      }
      default:
        if (r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource') {
          const properties = props();
          const token = String(properties.ServiceToken);
          if (!token.startsWith('arn:aws:lambda:')) throw new CloudError(`${stack.stackName}: custom resource ${id} has ServiceToken ${token}; the local cloud runs only Lambda-backed ones`);
          const { physicalId, data } = await customResources.create({
            stackName: stack.stackName,
            logicalId: id,
            type: r.Type,
            properties,
            invoke: (e) => invoke(functionName(token), e, 'cloudformation'),
          });
          return { ref: physicalId, attributes: data };
        }
    }
    return notCreated(id, r, resolver, stack.stackName);
  }

  /**
   * Unzips the function's package into its own directory, as Lambda does into /var/task, and registers it. Its AWS
   * calls go through a proxy that holds them to the function's role, as IAM would.
   */
  async function deployFunction(stack: Stack, id: string, r: Resource, resolver: Resolver): Promise<Physical> {
    const { FunctionName, Handler, Timeout, MemorySize, Environment, Code, Runtime: declared, VpcConfig, ReservedConcurrentExecutions } = r.Properties!;
    // VpcConfig has no effect on loopback, but resolving it proves its subnets and security groups exist.
    const p = resolver.resolve({ FunctionName, Handler, Timeout, MemorySize, Environment, Code, VpcConfig, ReservedConcurrentExecutions }) as Props;
    const name = String(p.FunctionName ?? `${stack.stackName}-${id}`);
    tellRuntime(String(declared ?? ''));
    const s3Key = (p.Code as { S3Key?: string } | undefined)?.S3Key;
    if (!s3Key) throw new CloudError(`${stack.stackName}: function ${name} has no packaged code (Code.S3Key); the local cloud runs only zip packages`);
    const variables = (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const reserved = reservedKeys(variables);
    if (reserved.length) throw new CloudError(`${stack.stackName}: function ${name} sets ${reserved.join(', ')} in Environment.Variables, which Lambda reserves`);
    const dir = join(services.dataDir, 'functions', name);
    removeBundle(dir);
    mkdirSync(dir, { recursive: true });
    await unzip(artifactOf(stack, s3Key), dir);
    const proxy = await roleProxy(stack, name, r.Properties!.Role, resolver);
    runtime.add({
      name,
      service: stack.service,
      dir,
      handler: String(p.Handler),
      // The local endpoints and database win over whatever the template says.
      env: { ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])), ...services.env, ...proxyEndpoints(proxy) },
      timeoutSeconds: Number(p.Timeout ?? 3),
      memoryMb: Number(p.MemorySize ?? 128),
      runtime: String(declared ?? 'nodejs24.x'),
      reservedConcurrency: ReservedConcurrentExecutions === undefined ? undefined : Number(p.ReservedConcurrentExecutions),
    });
    return { ref: name, attributes: { Arn: arn.function(name) } };
  }

  /** Functions run on the Node they declare when it is installed (node-binary.ts), else on this one: say so once. */
  function tellRuntime(declared: string): void {
    const major = nodeMajor(declared);
    if (!major && declared) throw new CloudError(`runtime ${declared}: the local cloud runs Node.js functions only`);
    if (!major || declaredNode(declared) || runtimesTold.has(declared)) return;
    runtimesTold.add(declared);
    log(`the templates declare ${declared}, whose Node is not installed (node-linux-${process.arch}@${major}); the local cloud runs that code on Node ${process.versions.node}`);
  }

  /** The function's IAM proxy, when its role is one of the stack's own (an outside role's policies are unknown here). */
  async function roleProxy(stack: Stack, name: string, role: unknown, resolver: Resolver): Promise<IamProxy | undefined> {
    await iamProxies.get(name)?.stop();
    iamProxies.delete(name);
    const roleId = (role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
    const roleResource = roleId ? stack.template.Resources[roleId] : undefined;
    if (roleResource?.Type !== 'AWS::IAM::Role') return undefined;
    const statements = roleStatements(resolver.resolve(roleResource.Properties ?? {}) as Props);
    const principal = `arn:aws:sts::${ACCOUNT}:assumed-role/${roleId}/${name}`;
    const proxy = await startIamProxy(
      principal,
      statements,
      services.endpoints,
      (refused) => log(refused instanceof Error ? `${name}: AccessDenied: ${refused.message}` : `${name}: AccessDenied: ${refused.action} on ${refused.resource} is not in its role`, name),
      (secretId) => services.secrets.get(secretId)?.arn,
      (permission, headers) => deniedByBucketPolicy(permission, principal, s3RequestContext(principal, headers), (bucket) => bucketPolicies.get(bucket)),
    );
    iamProxies.set(name, proxy);
    return proxy;
  }

  const proxyEndpoints = (proxy: IamProxy | undefined): Record<string, string> =>
    proxy ? Object.fromEntries(['S3', 'DYNAMODB', 'DYNAMODB_STREAMS', 'KINESIS', 'SQS', 'SNS', 'SECRETS_MANAGER'].map((s) => [`AWS_ENDPOINT_URL_${s}`, proxy.endpoint])) : {};

  function notificationRules(bucket: string, props: Props): S3Rule[] {
    const configs = (props.NotificationConfiguration as { LambdaConfigurations?: Props[] } | undefined)?.LambdaConfigurations ?? [];
    return configs.map((c) => {
      const rules = (c.Filter as { S3Key?: { Rules?: Array<{ Name: string; Value: string }> } } | undefined)?.S3Key?.Rules ?? [];
      const rule = (name: string) => rules.find((x) => x.Name.toLowerCase() === name)?.Value;
      return { bucket, events: [String(c.Event)], prefix: rule('prefix'), suffix: rule('suffix'), functionName: functionName(String(c.Function)) };
    });
  }

  /** Where a reader of a stream keeps its position, so a persistent cloud resumes instead of replaying on restart. */
  function checkpointFile(reader: string, streamArn: string): string {
    const checkpoints = join(services.dataDir, 'checkpoints');
    mkdirSync(checkpoints, { recursive: true });
    return join(checkpoints, `${reader}-${createHash('sha1').update(streamArn).digest('hex').slice(0, 8)}.json`);
  }

  function startMapping(props: Props): StreamPoller {
    // A mapping of an enhanced fan-out consumer reads its stream.
    const streamArn = String(props.EventSourceArn).split('/consumer/')[0]!;
    const kind = streamArn.startsWith('arn:aws:kinesis') ? 'kinesis' : 'dynamodb';
    const fn = functionName(String(props.FunctionName));
    return startStreamPoller(
      {
        ...streamMappingConfig(props, (q) => queueUrls.get(q)),
        functionName: fn,
        kind,
        streamArn,
        filterPatterns: filterPatterns(props),
        checkpointFile: checkpointFile(fn, streamArn),
      },
      { source: kind === 'kinesis' ? kinesisSource(clients.kinesis, streamArn) : dynamodbSource(clients.streams, streamArn), sqs: clients.sqs, invoke, log, gaveUp },
    );
  }

  const pollers = () => [...deployments.values()].flatMap((d) => d.pollers);
  // ListExports of what the stacks export, for tools that find a stage's resources as on AWS (`status --stage`).
  const { startCloudFormation } = await import('./cloudformation/list-exports');
  const cloudformation = await startCloudFormation({ exports: () => Object.entries(exports).map(([name, value]) => ({ name, value, stackName: exportedBy.get(name)! })) });
  services.env.AWS_ENDPOINT_URL_CLOUDFORMATION = cloudformation.endpoint;
  const stop = () =>
    (stopping ??= (async () => {
      await cloudformation.stop();
      await Promise.all(pollers().map((p) => p.stop()));
      await runtime.stop();
      // Every start unzips the code again; removed here, its read-only directories never block removing the data dir.
      removeBundle(join(services.dataDir, 'functions'));
      await Promise.all([...iamProxies.values(), ...sessions].map((p) => p.stop()));
      await customResources.stop();
      await services.stop();
    })());

  try {
    await deployInDependencyOrder(stacks, deploy);
  } catch (error) {
    await stop();
    throw error;
  }

  const quietNow = () => runtime.inFlight() === 0 && asyncInvoker.pending() === 0 && pollers().every((p) => p.caughtUp());
  return {
    ...services,
    stage: stacks[0]?.stage ?? 'dev',
    exports,
    get functions() {
      return runtime.names();
    },
    deploy: (dir) => deploy(loadStack(resolve(root, dir))),
    invoke: (fn, event) => runtime.invoke(fn, event),
    killContainers: (fn) => runtime.kill(fn),
    async assumeRole(roleArn, { caller, tags = {} }) {
      const role = roles.get(roleArn);
      if (!role) throw new CloudError(`no deployed stack holds the role ${roleArn}`);
      const session = await assumeRole({
        roleArn,
        role: role(),
        caller,
        tags,
        targets: services.endpoints,
        resourceDenies: (permission, principal, headers) => deniedByBucketPolicy(permission, principal, s3RequestContext(principal, headers), (bucket) => bucketPolicies.get(bucket)),
        onDenied: (message) => log(message),
      });
      sessions.push(session);
      return session;
    },
    async idle({ quietMs = 500, timeoutMs = 60_000 } = {}) {
      const until = Date.now() + timeoutMs;
      let quietSince = 0;
      for (;;) {
        if (!quietNow()) quietSince = 0;
        else if (!quietSince) quietSince = Date.now();
        else if (Date.now() - quietSince >= quietMs) return;
        if (Date.now() > until) throw new Error(`the local cloud was still busy after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    on: (event: string, listener: (e: never) => void) => {
      events.on(event, listener as (e: unknown) => void);
    },
    stop,
  };
}
