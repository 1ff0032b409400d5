import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CustomResources } from './custom-resources';
import { createAsyncInvoker, type AsyncConfig } from './event-sources/async-invoke';
import { matchS3Event, matchS3Rule, s3NotificationEvent, type S3Rule } from './event-sources/s3-notifications';
import { startStreamPoller } from './event-sources/stream-poller';
import { dynamodbSource, kinesisSource } from './event-sources/stream-sources';
import { createResource, type Clients } from './resources';
import { Runtime } from './runtime';
import { REGION, startServices, type Services } from './services';
import { arn, loadComposedStacks, loadStack, Resolver, type Physical, type Stack } from './template';
import { unzip } from './unzip';

export interface LocalCloud extends Services {
  stage: string;
  exports: Record<string, string>;
  functions: string[];
  deploy(serviceDir: string): Promise<void>;
  invoke(functionName: string, event: unknown): Promise<unknown>;
  idle(opts?: { quietMs?: number; timeoutMs?: number }): Promise<void>;
  on(event: 'invoke' | 'result' | 'error', listener: (e: { functionName: string; source: string; ms?: number; error?: string }) => void): void;
  stop(): Promise<void>;
}

type Props = Record<string, unknown>;
const FRAMEWORK_INTERNALS = new Set(['ServerlessDeploymentBucket']);
const functionName = (functionArn: string) => functionArn.split(':').pop()!;

/**
 * The local cloud: the emulated services, plus every packaged stack of serverless-compose.yml deployed onto them,
 * functions and their event sources included. It runs the very templates `serverless deploy` would.
 */
export async function startCloud(opts: { dataDir?: string; root?: string; log?: (line: string) => void } = {}): Promise<LocalCloud> {
  const log = opts.log ?? (() => undefined);
  const root = resolve(opts.root ?? process.cwd());
  const stacks = loadComposedStacks(root);
  const services = await startServices({ dataDir: opts.dataDir, log });
  const aws = { region: REGION, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } };
  const clients: Clients & { streams: DynamoDBStreamsClient } = {
    dynamodb: new DynamoDBClient({ ...aws, endpoint: services.endpoints.dynamodb }),
    streams: new DynamoDBStreamsClient({ ...aws, endpoint: services.endpoints.dynamodb }),
    kinesis: new KinesisClient({ ...aws, endpoint: services.endpoints.kinesis, requestHandler: new NodeHttpHandler() }),
    s3: new S3Client({ ...aws, endpoint: services.endpoints.s3, forcePathStyle: true }),
    sqs: new SQSClient({ ...aws, endpoint: services.endpoints.sqs }),
  };
  const events = new EventEmitter();
  const runtime = new Runtime(log);
  for (const name of ['invoke', 'result', 'error'] as const) runtime.on(name, (e) => events.emit(name, e));
  const invoke = (fn: string, event: unknown, source = 'invoke') => runtime.invoke(fn, event, source);
  const asyncInvoker = createAsyncInvoker({ invoke, sqs: clients.sqs, log });
  const customResources = new CustomResources();
  const exports: Record<string, string> = {};
  const queueUrls = new Map<string, string>();
  const asyncConfigs = new Map<string, AsyncConfig>();
  const s3Rules: S3Rule[] = [];
  const pollers: Array<ReturnType<typeof startStreamPoller>> = [];

  services.s3Events((event) => {
    const record = event.Records[0];
    if (!record) return;
    for (const rule of s3Rules) {
      if (rule.bucket !== record.s3.bucket.name || !matchS3Event(record.eventName, rule.events) || !matchS3Rule(record.s3.object.key, rule)) continue;
      asyncInvoker.invokeAsync(rule.functionName, s3NotificationEvent(event, `${rule.functionName}-notification`), asyncConfigs.get(rule.functionName) ?? { maxRetryAttempts: 2 });
    }
  });

  async function deploy(stack: Stack): Promise<void> {
    const physical = new Map<string, Physical>();
    const resolver = new Resolver(stack, physical, exports);
    const resources = Object.entries(stack.template.Resources).filter(([id]) => !FRAMEWORK_INTERNALS.has(id));
    for (const [id, r] of resources) {
      if (r.Type === 'AWS::Lambda::Function') {
        const name = String(r.Properties!.FunctionName);
        physical.set(id, { ref: name, attributes: { Arn: arn.function(name) } });
      }
    }
    for (const [id, r] of resources) {
      const created = await createResource(id, r, resolver, stack.stackName, clients);
      if (created) physical.set(id, created);
      if (r.Type === 'AWS::SQS::Queue' && created) queueUrls.set(created.attributes.Arn!, created.ref);
    }
    for (const [name, output] of Object.entries(stack.template.Outputs ?? {})) {
      if (!output.Export) continue;
      try {
        exports[String(resolver.resolve(output.Export.Name))] = String(resolver.resolve(output.Value));
      } catch { /* outputs about framework internals (versions, deployment bucket) mean nothing locally */ }
    }
    const functions = resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    if (functions.length) {
      const codeDir = join(services.dataDir, 'functions', stack.stackName);
      rmSync(codeDir, { recursive: true, force: true });
      mkdirSync(codeDir, { recursive: true });
      await unzip(stack.artifact!, codeDir);
      for (const [, r] of functions) {
        // Only what shapes the runtime: Code and Role point at AWS-side things; locally the code is the artifact.
        const { FunctionName, Handler, Timeout, MemorySize, Environment } = r.Properties!;
        const p = resolver.resolve({ FunctionName, Handler, Timeout, MemorySize, Environment }) as Props;
        const variables = ((p.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {});
        runtime.add({
          name: String(p.FunctionName), service: stack.service, dir: codeDir, handler: String(p.Handler),
          env: { ...variables, ...services.env }, timeoutSeconds: Number(p.Timeout ?? 6), memoryMb: Number(p.MemorySize ?? 1024),
        });
      }
    }
    for (const [id, r] of resources) {
      const p = () => resolver.resolve(r.Properties ?? {}) as Props;
      switch (r.Type) {
        case 'AWS::Lambda::EventInvokeConfig': {
          const props = p();
          const destination = (props.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure?.Destination;
          asyncConfigs.set(String(props.FunctionName), { maxRetryAttempts: Number(props.MaximumRetryAttempts ?? 2), onFailureQueueUrl: destination ? queueUrls.get(destination) : undefined });
          break;
        }
        case 'AWS::Lambda::EventSourceMapping': pollers.push(startMapping(p())); break;
        case 'AWS::S3::Bucket': {
          const props = p();
          const configs = ((props.NotificationConfiguration as { LambdaConfigurations?: Props[] } | undefined)?.LambdaConfigurations ?? []);
          for (const c of configs) {
            const rules = ((c.Filter as { S3Key?: { Rules?: Array<{ Name: string; Value: string }> } } | undefined)?.S3Key?.Rules ?? []);
            const rule = (name: string) => rules.find((x) => x.Name.toLowerCase() === name)?.Value;
            s3Rules.push({ bucket: String(props.BucketName), events: [String(c.Event)], prefix: rule('prefix'), suffix: rule('suffix'), functionName: functionName(String(c.Function)) });
          }
          break;
        }
        default:
          if (r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource') {
            const properties = p();
            await customResources.create({ stackName: stack.stackName, logicalId: id, type: r.Type, properties, invoke: (e) => invoke(functionName(String(properties.ServiceToken)), e, 'cloudformation') });
          }
      }
    }
  }

  function startMapping(props: Props) {
    const streamArn = String(props.EventSourceArn);
    const kind = streamArn.startsWith('arn:aws:kinesis') ? 'kinesis' : 'dynamodb';
    const fn = functionName(String(props.FunctionName));
    const destination = (props.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure?.Destination;
    const checkpoints = join(services.dataDir, 'checkpoints');
    mkdirSync(checkpoints, { recursive: true });
    return startStreamPoller({
      functionName: fn, kind, streamArn,
      batchSize: Number(props.BatchSize ?? 100), batchWindowSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
      startingPosition: (props.StartingPosition as 'TRIM_HORIZON' | 'LATEST') ?? 'TRIM_HORIZON',
      maxRetryAttempts: Number(props.MaximumRetryAttempts ?? -1), bisectOnError: Boolean(props.BisectBatchOnFunctionError),
      reportBatchItemFailures: ((props.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
      filterPatterns: ((props.FilterCriteria as { Filters?: Array<{ Pattern: string }> } | undefined)?.Filters ?? []).map((f) => f.Pattern),
      onFailureQueueUrl: destination ? queueUrls.get(destination) : undefined,
      checkpointFile: join(checkpoints, `${fn}-${createHash('sha1').update(streamArn).digest('hex').slice(0, 8)}.json`),
    }, { source: kind === 'kinesis' ? kinesisSource(clients.kinesis, streamArn) : dynamodbSource(clients.streams, streamArn), sqs: clients.sqs, invoke, log });
  }

  const stop = async () => {
    await Promise.all(pollers.map((p) => p.stop()));
    await runtime.stop();
    await customResources.stop();
    await services.stop();
  };

  try {
    for (const stack of stacks) await deploy(stack);
  } catch (error) {
    await stop();
    throw error;
  }

  const quietNow = () => runtime.inFlight() === 0 && asyncInvoker.pending() === 0 && pollers.every((p) => p.caughtUp());
  return {
    ...services,
    stage: stacks[0]?.stage ?? 'dev',
    exports,
    get functions() { return runtime.names(); },
    deploy: (dir) => deploy(loadStack(resolve(root, dir))),
    invoke: (fn, event) => runtime.invoke(fn, event),
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
    on: (event, listener) => { events.on(event, listener); },
    stop,
  };
}
