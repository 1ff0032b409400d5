import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionError, Runtime } from '../src/cloud/runtime';

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
};`,
  );
});
afterEach(() => runtime?.stop());
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

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
    const overlaps = await Promise.all([1, 2].map(() => runtime.invoke('fn', { url, want: 2 })));
    expect(overlaps).toEqual([1, 1]);
  });

  it('runs up to two at once without one', async () => {
    deploy();
    const overlaps = await Promise.all([1, 2].map(() => runtime.invoke('fn', { url, want: 2 })));
    expect(overlaps).toEqual([2, 2]);
  });

  it('throttles every invocation at a reserved concurrency of 0', async () => {
    deploy(0);
    await expect(runtime.invoke('fn', {})).rejects.toMatchObject({ errorType: 'TooManyRequestsException', functionName: 'fn' });
    await expect(runtime.invoke('fn', {})).rejects.toBeInstanceOf(FunctionError);
  });
});
