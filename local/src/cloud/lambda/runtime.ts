import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { functionNode } from './node-binary';
import { MAX_PAYLOAD_BYTES, requestTooLarge, responseTooLarge } from './payload-limits';
import { arn, REGION } from '../account';
import { THROTTLED } from './throttling';
import { bundlePath } from './unzip';
import { LocalCloudError } from '../errors';

export interface FunctionConfig {
  name: string;
  service: string;
  dir: string;
  handler: string;
  env: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  /** The runtime the template declares (nodejs24.x): the code runs on that major when it can be had (node-binary.ts). */
  runtime: string;
  /** ReservedConcurrentExecutions: at most this many invocations at once, any more are throttled; 0 throttles every one. */
  reservedConcurrency?: number;
}

export class FunctionError extends LocalCloudError {
  override name = 'FunctionError';
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What the CLI shows of an invocation: it started, it returned, or it failed. */
export interface Progress {
  functionName: string;
  source: string;
  ms?: number;
  error?: string;
}

/**
 * The container's entry point is plain JavaScript: it runs on another Node, outside the TypeScript toolchain (neither
 * jest's transform nor tsx's loader reaches into it), and the bundles it loads are JavaScript anyway.
 */
const WORKER = fileURLToPath(new URL('./function-worker.mjs', import.meta.url));
/**
 * Lambda would scale out; locally a function runs at most one warm container per core (at least two), so that two
 * invocations really run in parallel on a 2-core machine. Invocations beyond it wait for a container.
 */
export const CONTAINERS_PER_FUNCTION = Math.max(2, availableParallelism());

interface Container {
  child: ChildProcess;
  busy: boolean;
  pending: Map<string, { resolve(v: unknown): void; reject(e: Error): void }>;
}
interface Deployed {
  config: FunctionConfig;
  containers: Container[];
  queue: Array<() => void>;
  /** Invocations admitted, running or waiting for a container: what reserved concurrency counts. */
  admitted: number;
}
type WorkerMessage = { ready: true } | { initError: { errorType: string; errorMessage: string } } | { id: string; ok: boolean; result?: unknown; error?: { errorType: string; errorMessage: string } };

/** Runs functions from their bundles, a child process per container with its own environment: a small Lambda service. */
export class Runtime {
  private readonly functions = new Map<string, Deployed>();
  private running = 0;
  private stopped = false;

  constructor(
    private readonly log: (line: string, functionName: string) => void,
    private readonly progress: (kind: 'invoke' | 'result' | 'error', e: Progress) => void,
  ) {}

  /** Deploys a function; a redeployed one starts from cold, as after a code update. */
  add(config: FunctionConfig): void {
    for (const c of this.functions.get(config.name)?.containers ?? []) c.child?.kill('SIGKILL');
    this.functions.set(config.name, { config, containers: [], queue: [], admitted: 0 });
  }

  names(): string[] {
    return [...this.functions.keys()];
  }

  inFlight(): number {
    return this.running;
  }

  /**
   * Test hook (the chaos suite): kills every started container of a function (SIGKILL), as a crashed sandbox; its
   * invocations fail with Runtime.ExitError and the next ones start cold. Returns how many were killed.
   */
  kill(name: string): number {
    const started = (this.functions.get(name)?.containers ?? []).filter((c) => c.child);
    for (const c of started) c.child.kill('SIGKILL');
    return started.length;
  }

  /**
   * Synchronous invocation: resolves with the handler's result, rejects with a FunctionError. An asynchronous event's
   * retries pass the request id Lambda gave it when it was queued, which each attempt's context carries.
   */
  async invoke(name: string, event: unknown, source = 'invoke', requestId: string = randomUUID()): Promise<unknown> {
    const fn = this.functions.get(name);
    if (!fn) throw new FunctionError(name, this.stopped ? 'ServiceException' : 'ResourceNotFoundException', this.stopped ? 'the local cloud is stopped' : `function ${name} is not deployed`);
    const tooLarge = requestTooLarge(event, MAX_PAYLOAD_BYTES);
    if (tooLarge) throw new FunctionError(name, 'RequestEntityTooLargeException', tooLarge);
    const reserved = fn.config.reservedConcurrency;
    if (reserved !== undefined && fn.admitted >= reserved)
      throw new FunctionError(name, THROTTLED, `Rate Exceeded: ${name} runs ${fn.admitted} invocation(s), its reserved concurrency of ${reserved}`);
    fn.admitted += 1;
    this.running += 1;
    const started = Date.now();
    this.progress('invoke', { functionName: name, source });
    try {
      const container = await this.acquire(fn);
      try {
        const result = await this.call(fn.config, container, event, requestId);
        const tooLargeResult = responseTooLarge(result);
        if (tooLargeResult) throw new FunctionError(name, 'Function.ResponseSizeTooLarge', tooLargeResult);
        this.progress('result', { functionName: name, source, ms: Date.now() - started });
        return result;
      } finally {
        container.busy = false;
        fn.queue.shift()?.();
      }
    } catch (error) {
      this.progress('error', { functionName: name, source, ms: Date.now() - started, error: (error as Error).message });
      throw error;
    } finally {
      fn.admitted -= 1;
      this.running -= 1;
    }
  }

  private async acquire(fn: Deployed): Promise<Container> {
    for (;;) {
      const idle = fn.containers.find((c) => !c.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (fn.containers.length < Math.min(CONTAINERS_PER_FUNCTION, fn.config.reservedConcurrency ?? CONTAINERS_PER_FUNCTION)) {
        // Counted before it is ready, so concurrent cold starts do not overshoot the limit.
        const starting: Container = { child: undefined as never, busy: true, pending: new Map() };
        fn.containers.push(starting);
        try {
          Object.assign(starting, await this.start(fn.config, starting));
          return starting;
        } catch (error) {
          fn.containers = fn.containers.filter((c) => c !== starting);
          fn.queue.shift()?.();
          throw error;
        }
      }
      await new Promise<void>((resolve) => fn.queue.push(resolve));
    }
  }

  private async start(config: FunctionConfig, container: Container): Promise<{ child: ChildProcess }> {
    const { file, exportName } = bundlePath(config.dir, config.handler);
    const context = {
      functionName: config.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: arn.function(config.name),
      memoryLimitInMB: String(config.memoryMb),
      logGroupName: `/aws/lambda/${config.name}`,
      logStreamName: `local/${randomUUID()}`,
    };
    // A process of its own, as a Lambda container is: its own Node, working directory, environment and time zone.
    const node = functionNode(config.runtime).path;
    const child = fork(WORKER, [JSON.stringify({ file, exportName, context })], {
      execPath: node,
      // Not this process's flags (jest's, tsx's loader): a Lambda runtime's own, its heap sized by MemorySize.
      execArgv: [`--max-old-space-size=${Math.max(config.memoryMb, 128)}`],
      cwd: config.dir,
      env: {
        ...config.env,
        _HANDLER: config.handler,
        AWS_LAMBDA_FUNCTION_NAME: config.name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: context.logGroupName,
        AWS_LAMBDA_LOG_STREAM_NAME: context.logStreamName,
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_REGION: REGION,
        AWS_DEFAULT_REGION: REGION,
        AWS_EXECUTION_ENV: `AWS_Lambda_${config.runtime}`,
        LAMBDA_TASK_ROOT: config.dir,
        // Lambda's /var/runtime and /var/lang/bin: here the worker's folder and the declared Node's.
        LAMBDA_RUNTIME_DIR: dirname(WORKER),
        PATH: `${dirname(node)}:/usr/local/bin:/usr/bin:/bin`,
        LANG: 'en_US.UTF-8',
        TZ: 'UTC',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // Whole lines only: a JSON log line split across two chunks would otherwise reach the log as two broken ones.
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => line && this.log(line.startsWith('{') ? line : `${config.name}: ${line}`, config.name));
    }
    await new Promise<void>((resolve, reject) => {
      // Once it is ready these settle nothing: the listeners below discard the container.
      const failed = (errorType: string, message: string, options?: ErrorOptions) => {
        child.kill('SIGKILL');
        reject(new FunctionError(config.name, errorType, message, options));
      };
      child.once('error', (e) => failed('Runtime.ExitError', e.message, { cause: e }));
      child.once('exit', (code, signal) => failed('Runtime.ExitError', exited(code, signal)));
      child.on('message', (m: WorkerMessage) => {
        if ('ready' in m) return resolve();
        if ('initError' in m) return failed(m.initError.errorType, m.initError.errorMessage);
        const call = container.pending.get(m.id);
        container.pending.delete(m.id);
        if (m.ok) call?.resolve(m.result);
        else call?.reject(new FunctionError(config.name, m.error!.errorType, m.error!.errorMessage));
      });
    });
    child.on('error', (e) => this.discard(config.name, container, e));
    child.on('exit', (code, signal) => this.discard(config.name, container, new Error(exited(code, signal))));
    return { child };
  }

  private call(config: FunctionConfig, container: Container, event: unknown, requestId: string): Promise<unknown> {
    // The message id, unique per attempt even when the request id is a retried event's.
    const id = randomUUID();
    const deadline = Date.now() + config.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // A timed-out Lambda container is not reused: its state is unknown.
        this.discard(config.name, container, new FunctionError(config.name, 'Sandbox.Timedout', `Task timed out after ${config.timeoutSeconds.toFixed(2)} seconds`));
        container.child.kill('SIGKILL');
      }, config.timeoutSeconds * 1000);
      container.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      // An event that cannot be sent (the container died meanwhile) fails the call, as its exit does.
      container.child.send(
        { id, event, requestId, deadline },
        (error) => error && container.pending.get(id)?.reject(new FunctionError(config.name, 'Runtime.ExitError', error.message, { cause: error })),
      );
    });
  }

  private discard(name: string, container: Container, error: Error): void {
    const fn = this.functions.get(name);
    if (fn) fn.containers = fn.containers.filter((c) => c !== container);
    for (const call of container.pending.values()) call.reject(error instanceof FunctionError ? error : new FunctionError(name, 'Runtime.ExitError', error.message, { cause: error }));
    container.pending.clear();
    fn?.queue.shift()?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const containers = [...this.functions.values()].flatMap((f) => f.containers.filter((c) => c.child));
    this.functions.clear();
    for (const c of containers) this.discard('', c, new Error('the local cloud is stopped'));
    await Promise.all(containers.map(({ child }) => child.exitCode === null && child.signalCode === null && new Promise((resolve) => child.once('exit', resolve).kill('SIGKILL'))));
  }
}

/** How Lambda words a runtime that exited: "Runtime exited with error: exit status 1" (or "signal: killed"). */
const exited = (code: number | null, signal: NodeJS.Signals | null): string => `Runtime exited with error: ${signal ? `signal ${signal}` : `exit status ${code}`}`;
