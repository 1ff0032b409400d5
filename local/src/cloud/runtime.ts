import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { REGION } from './services';
import { arn } from './template';
import { bundlePath } from './unzip';

export interface FunctionConfig { name: string; service: string; dir: string; handler: string; env: Record<string, string>; timeoutSeconds: number; memoryMb: number }

export class FunctionError extends Error {
  constructor(readonly functionName: string, readonly errorType: string, message: string) {
    super(message);
  }
}

const WORKER = fileURLToPath(new URL('./function-worker.mjs', import.meta.url));
/** Lambda would scale out; two warm containers per function is what a 2-core machine can usefully run. */
const MAX_CONCURRENCY = 2;

interface Container { worker: Worker; busy: boolean; pending: Map<string, { resolve(v: unknown): void; reject(e: Error): void }> }

/** Runs functions from their bundles in worker threads, each with its own environment: a small Lambda service. */
export class Runtime extends EventEmitter {
  private readonly functions = new Map<string, { config: FunctionConfig; containers: Container[]; queue: Array<() => void> }>();
  private running = 0;

  constructor(private readonly log: (line: string) => void) {
    super();
  }

  add(config: FunctionConfig): void {
    this.functions.set(config.name, { config, containers: [], queue: [] });
  }

  names(): string[] {
    return [...this.functions.keys()];
  }

  inFlight(): number {
    return this.running;
  }

  /** Synchronous invocation: resolves with the handler's result, rejects with a FunctionError. */
  async invoke(name: string, event: unknown, source = 'invoke'): Promise<unknown> {
    const fn = this.functions.get(name);
    if (!fn) throw new FunctionError(name, 'ResourceNotFoundException', `function ${name} is not deployed`);
    this.running += 1;
    const started = Date.now();
    this.emit('invoke', { functionName: name, source });
    try {
      const container = await this.acquire(fn);
      try {
        const result = await this.call(fn.config, container, event);
        this.emit('result', { functionName: name, source, ms: Date.now() - started });
        return result;
      } finally {
        container.busy = false;
        fn.queue.shift()?.();
      }
    } catch (error) {
      this.emit('error', { functionName: name, source, ms: Date.now() - started, error: (error as Error).message });
      throw error;
    } finally {
      this.running -= 1;
    }
  }

  private async acquire(fn: { config: FunctionConfig; containers: Container[]; queue: Array<() => void> }): Promise<Container> {
    for (;;) {
      const idle = fn.containers.find((c) => !c.busy);
      if (idle) { idle.busy = true; return idle; }
      if (fn.containers.length < MAX_CONCURRENCY) {
        const container = await this.start(fn.config);
        fn.containers.push(container);
        container.busy = true;
        return container;
      }
      await new Promise<void>((resolve) => fn.queue.push(resolve));
    }
  }

  private async start(config: FunctionConfig): Promise<Container> {
    const { file, exportName } = bundlePath(config.dir, config.handler);
    const context = {
      functionName: config.name, functionVersion: '$LATEST', invokedFunctionArn: arn.function(config.name),
      memoryLimitInMB: String(config.memoryMb), logGroupName: `/aws/lambda/${config.name}`, logStreamName: `local/${randomUUID()}`,
    };
    const worker = new Worker(WORKER, {
      workerData: { file, exportName, context },
      env: {
        ...config.env, AWS_LAMBDA_FUNCTION_NAME: config.name, AWS_LAMBDA_FUNCTION_VERSION: '$LATEST', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
        AWS_REGION: REGION, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', LAMBDA_TASK_ROOT: config.dir, TZ: 'UTC',
      },
      stdout: true, stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(config.memoryMb, 128) },
    });
    const prefix = (line: string) => line && this.log(line.startsWith('{') ? line : `${config.name}: ${line}`);
    worker.stdout.on('data', (d: Buffer) => d.toString().split('\n').forEach(prefix));
    worker.stderr.on('data', (d: Buffer) => d.toString().split('\n').forEach(prefix));
    const container: Container = { worker, busy: false, pending: new Map() };
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (m: { ready?: boolean; id?: string; ok?: boolean; result?: unknown; error?: { errorType: string; errorMessage: string } }) => {
        if (m.ready) return resolve();
        const call = container.pending.get(m.id!);
        container.pending.delete(m.id!);
        if (m.ok) call?.resolve(m.result);
        else call?.reject(new FunctionError(config.name, m.error!.errorType, m.error!.errorMessage));
      });
    });
    worker.on('error', (e) => this.discard(config.name, container, e));
    worker.on('exit', () => this.discard(config.name, container, new Error('the function runtime exited')));
    return container;
  }

  private call(config: FunctionConfig, container: Container, event: unknown): Promise<unknown> {
    const id = randomUUID();
    const deadline = Date.now() + config.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // A timed-out Lambda container is not reused: its state is unknown.
        this.discard(config.name, container, new FunctionError(config.name, 'TimeoutError', `Task timed out after ${config.timeoutSeconds} seconds`));
        void container.worker.terminate();
      }, config.timeoutSeconds * 1000);
      container.pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      container.worker.postMessage({ id, event, requestId: id, deadline });
    });
  }

  private discard(name: string, container: Container, error: Error): void {
    const fn = this.functions.get(name);
    if (fn) fn.containers = fn.containers.filter((c) => c !== container);
    for (const call of container.pending.values()) call.reject(error instanceof FunctionError ? error : new FunctionError(name, 'Runtime.ExitError', error.message));
    container.pending.clear();
    fn?.queue.shift()?.();
  }

  async stop(): Promise<void> {
    const workers = [...this.functions.values()].flatMap((f) => f.containers.map((c) => c.worker));
    this.functions.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
