import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_PAYLOAD_BYTES, MAX_RESPONSE_BYTES, payloadBytes } from '../src/cloud/lambda/payload-limits';
import { CONTAINERS_PER_FUNCTION, FunctionError, Runtime } from '../src/cloud/lambda/runtime';

let dir: string;
let runtime: Runtime;
let server: Server;
let url: string;

/**
 * Containers are processes, so they count each other here: GET /enter answers, once `want` invocations are in (or
 * after a second), how many were in at most; GET /leave counts one out.
 */
beforeAll(async () => {
  let inside = 0;
  let peak = 0;
  let waiting: Array<() => void> = [];
  server = createServer((req, res) => {
    const { pathname, searchParams } = new URL(req.url!, 'http://x');
    if (pathname === '/leave') {
      inside -= 1;
      if (inside === 0) peak = 0;
      return res.end();
    }
    inside += 1;
    peak = Math.max(peak, inside);
    const answer = () => res.end(String(peak));
    if (inside >= Number(searchParams.get('want'))) {
      for (const w of waiting) w();
      waiting = [];
      return answer();
    }
    waiting.push(answer);
    setTimeout(answer, 1000);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'runtime-'));
  writeFileSync(
    join(dir, 'handler.mjs'),
    `export const handler = async ({ url, want }) => {
  const peak = Number(await (await fetch(\`\${url}/enter?want=\${want}\`)).text());
  await fetch(\`\${url}/leave\`);
  return peak;
};
export const size = async (event) => JSON.stringify(event).length;
export const reply = async ({ bytes }) => 'x'.repeat(bytes);`,
  );
});
afterEach(() => runtime?.stop());
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const deploy = (reservedConcurrency?: number, handler = 'handler.handler') => {
  runtime = new Runtime(
    () => undefined,
    () => undefined,
  );
  runtime.add({ name: 'fn', service: 's', dir, handler, env: {}, timeoutSeconds: 10, memoryMb: 128, runtime: 'nodejs20.x', reservedConcurrency });
};

describe('reserved concurrency', () => {
  it('runs up to the reserved concurrency at once and throttles the invocations beyond it, as Lambda does', async () => {
    deploy(2);
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => runtime.invoke('fn', { url, want: 2 })));
    expect(outcomes.slice(0, 2)).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'fulfilled', value: 2 },
    ]);
    expect(outcomes[2]).toMatchObject({ status: 'rejected', reason: { errorType: 'TooManyRequestsException', functionName: 'fn' } });
    // Once those have returned, the concurrency is free again.
    await expect(runtime.invoke('fn', { url, want: 1 })).resolves.toBe(1);
  });

  it('runs at most one container per core (at least two) without one, queueing the rest instead of throttling', async () => {
    expect(CONTAINERS_PER_FUNCTION).toBe(Math.max(2, availableParallelism()));
    deploy();
    const many = CONTAINERS_PER_FUNCTION + 1;
    const overlaps = (await Promise.all(Array.from({ length: many }, () => runtime.invoke('fn', { url, want: many })))) as number[];
    expect(Math.max(...overlaps)).toBe(CONTAINERS_PER_FUNCTION);
  });

  it('throttles every invocation at a reserved concurrency of 0', async () => {
    deploy(0);
    await expect(runtime.invoke('fn', {})).rejects.toMatchObject({ errorType: 'TooManyRequestsException', functionName: 'fn' });
    await expect(runtime.invoke('fn', {})).rejects.toBeInstanceOf(FunctionError);
  });
});

describe('payload limits', () => {
  it('refuses a request over 6 MB with RequestEntityTooLargeException, without running the function', async () => {
    deploy(undefined, 'handler.size');
    const padded = (bytes: number) => ({ pad: 'x'.repeat(bytes - payloadBytes({ pad: '' })) });
    await expect(runtime.invoke('fn', padded(MAX_PAYLOAD_BYTES))).resolves.toBe(MAX_PAYLOAD_BYTES);
    const refused = await runtime.invoke('fn', padded(MAX_PAYLOAD_BYTES + 1)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FunctionError);
    expect(refused).toMatchObject({ errorType: 'RequestEntityTooLargeException', message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' });
    expect(runtime.inFlight()).toBe(0);
  });

  it("fails a response over Lambda's limit with Function.ResponseSizeTooLarge", async () => {
    deploy(undefined, 'handler.reply');
    // The result travels as JSON: a string gains its two quotes.
    await expect(runtime.invoke('fn', { bytes: MAX_RESPONSE_BYTES - 2 })).resolves.toHaveLength(MAX_RESPONSE_BYTES - 2);
    await expect(runtime.invoke('fn', { bytes: MAX_RESPONSE_BYTES - 1 })).rejects.toMatchObject({
      errorType: 'Function.ResponseSizeTooLarge',
      message: `Response payload size (${MAX_RESPONSE_BYTES + 1} bytes) exceeded maximum allowed payload size (6291556 bytes).`,
    });
  });
});
