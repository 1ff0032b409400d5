import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionError, Runtime } from '../src/cloud/runtime';

let dir: string;
let runtime: Runtime;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runtime-'));
  // Waits (up to a second) for `want` invocations to run at once, and answers how many it saw at most.
  writeFileSync(
    join(dir, 'handler.mjs'),
    `export const handler = async ({ counter, want }) => {
  let peak = Atomics.add(counter, 0, 1) + 1;
  Atomics.notify(counter, 0);
  const until = Date.now() + 1000;
  while (peak < want && Date.now() < until) {
    Atomics.wait(counter, 0, peak, until - Date.now());
    peak = Math.max(peak, Atomics.load(counter, 0));
  }
  Atomics.sub(counter, 0, 1);
  return peak;
};`,
  );
});
afterEach(() => runtime?.stop());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const deploy = (reservedConcurrency?: number) => {
  runtime = new Runtime(
    () => undefined,
    () => undefined,
  );
  runtime.add({ name: 'fn', service: 's', dir, handler: 'handler.handler', env: {}, timeoutSeconds: 10, memoryMb: 128, runtime: 'nodejs20.x', reservedConcurrency });
};

describe('reserved concurrency', () => {
  it('caps concurrent invocations at the reserved concurrency', async () => {
    deploy(1);
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const overlaps = await Promise.all([1, 2].map(() => runtime.invoke('fn', { counter, want: 2 })));
    expect(overlaps).toEqual([1, 1]);
  });

  it('runs up to two at once without one', async () => {
    deploy();
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const overlaps = await Promise.all([1, 2].map(() => runtime.invoke('fn', { counter, want: 2 })));
    expect(overlaps).toEqual([2, 2]);
  });

  it('throttles every invocation at a reserved concurrency of 0', async () => {
    deploy(0);
    await expect(runtime.invoke('fn', {})).rejects.toMatchObject({ errorType: 'TooManyRequestsException', functionName: 'fn' });
    await expect(runtime.invoke('fn', {})).rejects.toBeInstanceOf(FunctionError);
  });
});
