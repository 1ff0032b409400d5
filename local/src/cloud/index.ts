import { EventEmitter } from 'node:events';
import { join, resolve } from 'node:path';
import { LocalClock } from './clock';
import { deployInDependencyOrder, loadComposedStacks } from './cloudformation/compose';
import { checkOverrides } from './cloudformation/parameters';
import { StackDeployer } from './cloudformation/stack-deployer';
import { loadStack } from './cloudformation/template';
import { emulatorClients } from './emulators/clients';
import { type Ports, startServices, type Services } from './emulators/services';
import type { GaveUp } from './event-sources/failure-destination';
import { EventSourceWiring } from './event-sources/wiring';
import { LocalIam } from './iam/local-iam';
import type { RoleSession } from './iam/sessions';
import { type Progress, Runtime } from './lambda/runtime';
import { removeBundle } from './lambda/unzip';
import { CustomResources } from './providers/custom-resources';
import { LocalDatabaseResources } from './providers/database';
import type { CloudParts } from './providers/provider';
import { providerFor } from './providers/registry';

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
  /** The clock scheduled rules fire on (clock.ts): tests and `dataharvest clock` set it. */
  clock: LocalClock;
  /** Test hook (the chaos suite): kills the function's running containers mid-invocation (lambda/runtime.ts); how many. */
  killContainers(functionName: string): number;
  /** A session of one of the templates' roles, as STS AssumeRole with session tags gives it (iam/sessions.ts). */
  assumeRole(roleArn: string, opts: { caller: string; tags?: Record<string, string> }): Promise<RoleSession>;
  /** Resolves once no invocation runs, no asynchronous invocation is pending and every poller is caught up, for quietMs in a row. */
  idle(opts?: { quietMs?: number; timeoutMs?: number }): Promise<void>;
  on(event: 'invoke' | 'result' | 'error', listener: (e: Progress) => void): void;
  on(event: 'log', listener: (e: { line: string; functionName?: string }) => void): void;
  /** An event or stream record whose retries ran out: it went to the function's on-failure destination. */
  on(event: 'gave-up', listener: (e: GaveUp) => void): void;
  stop(): Promise<void>;
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
  /** Template parameter values by name, for every stack that declares the parameter (cloudformation/parameters.ts). */
  parameters?: Record<string, string>;
  /** Where the local clock starts (`up --clock`); it runs on from there. Default: the host's time. */
  clock?: Date;
  /** A DynamoDB Local of its own even where one is offered (emulators/dynamodb.ts): what `dynamodbOutage` needs. */
  ownDynamoDb?: boolean;
}

/**
 * Composes the local cloud from its parts: the emulators (emulators/), the function runtime (lambda/), the local IAM
 * (iam/), what invokes functions (event-sources/), and the stack deployer (cloudformation/) that creates each
 * resource through the provider of its type (providers/).
 */
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
  const told = new Set<string>();
  const root = resolve(opts.root ?? process.cwd());
  const stacks = loadComposedStacks(root);
  checkOverrides(stacks, opts.parameters ?? {});
  const emulators = await startServices({ dataDir: opts.dataDir, log, ports: opts.ports, ownDynamoDb: opts.ownDynamoDb });
  const clients = emulatorClients(emulators);
  const runtime = new Runtime(log, emit);
  const clock = new LocalClock(opts.clock);
  const cloud: CloudParts = {
    emulators,
    clients,
    runtime,
    iam: new LocalIam(emulators, log),
    eventSources: new EventSourceWiring({
      clients,
      invoke: (fn, event, source, requestId) => runtime.invoke(fn, event, source, requestId),
      log,
      gaveUp: (e) => emit('gave-up', e),
      checkpointDir: join(emulators.dataDir, 'checkpoints'),
      clock,
      writes: emulators.streamWrites,
    }),
    database: new LocalDatabaseResources(emulators.postgres, emulators.secrets),
    customResourceRequests: new CustomResources(),
    clock,
    log,
    notice: (line) => {
      if (!told.has(line)) log(line);
      told.add(line);
    },
  };
  emulators.s3Events((event) => cloud.eventSources.routeS3Event(event));
  const stackDeployer = new StackDeployer(cloud, providerFor, opts.parameters);

  // ListExports of what the stacks export, for tools that find a stage's resources as on AWS (`status --stage`).
  const { startCloudFormation } = await import('./cloudformation/list-exports');
  const cloudformation = await startCloudFormation({ exports: () => stackDeployer.exportList() });
  emulators.env.AWS_ENDPOINT_URL_CLOUDFORMATION = cloudformation.endpoint;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await cloud.eventSources.stop();
      await cloudformation.stop();
      await runtime.stop();
      // Every start unzips the code again; removed here, its read-only directories never block removing the data dir.
      removeBundle(join(emulators.dataDir, 'functions'));
      await cloud.iam.stop();
      await cloud.customResourceRequests.stop();
      await emulators.stop();
    })());

  try {
    await deployInDependencyOrder(stacks, (stack) => stackDeployer.deploy(stack));
  } catch (error) {
    await stop();
    throw error;
  }

  const quietNow = () => runtime.inFlight() === 0 && cloud.eventSources.quiet();
  return {
    ...emulators,
    stage: stacks[0]?.stage ?? 'dev',
    exports: stackDeployer.exports,
    get functions() {
      return runtime.names();
    },
    deploy: (dir) => stackDeployer.deploy(loadStack(resolve(root, dir))),
    invoke: (fn, event) => runtime.invoke(fn, event),
    clock,
    killContainers: (fn) => runtime.kill(fn),
    assumeRole: (roleArn, session) => cloud.iam.assumeRole(roleArn, session),
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
