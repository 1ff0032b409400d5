import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { reservedKeys } from '../src/cloud/lambda/function-environment';
import { removeBundle, unzip } from '../src/cloud/lambda/unzip';

const run = promisify(execFile);
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'dataharvest-runtime-'));
});
afterAll(() => removeBundle(scratch));

describe('the function runtime', () => {
  /**
   * In a child process whose time zone is not UTC, and whose environment holds a variable the function must not see:
   * under jest, process.env is a copy that would reach neither. The function reports what it sees.
   */
  it('runs a function in its own process: UTC, its task root, its environment, the Node it declares', async () => {
    const root = join(scratch, 'task');
    mkdirSync(join(root, 'src'), { recursive: true });
    writeFileSync(join(root, 'data.csv'), 'in the task root');
    writeFileSync(
      join(root, 'src', 'handler.mjs'),
      `import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
export const probe = async () => ({
  offset: new Date(2024, 0, 1).getTimezoneOffset(), tz: process.env.TZ, handler: process.env._HANDLER, cwd: process.cwd(),
  read: readFileSync('data.csv', 'utf8'), hostOnly: process.env.HOST_ONLY ?? null, node: process.versions.node.split('.')[0],
  heapMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20), pid: process.pid,
  lambda: Object.fromEntries(['LANG', 'PATH', 'LAMBDA_RUNTIME_DIR', 'AWS_DEFAULT_REGION', 'AWS_LAMBDA_INITIALIZATION_TYPE'].map((k) => [k, process.env[k]])),
});`,
    );
    const script = `import { Runtime } from ${JSON.stringify(resolve('local/src/cloud/lambda/runtime.ts'))};
const runtime = new Runtime(() => {}, () => {});
runtime.add({ name: 'probe', service: 'svc', dir: ${JSON.stringify(root)}, handler: 'src/handler.probe', env: {}, timeoutSeconds: 10, memoryMb: 128, runtime: 'nodejs24.x' });
runtime.add({ name: 'large', service: 'svc', dir: ${JSON.stringify(root)}, handler: 'src/handler.probe', env: {}, timeoutSeconds: 10, memoryMb: 1152, runtime: 'nodejs24.x' });
const [seen, large] = [await runtime.invoke('probe', {}), await runtime.invoke('large', {})];
console.log(JSON.stringify({ host: new Date(2024, 0, 1).getTimezoneOffset(), pid: process.pid, seen, large }));
await runtime.stop();`;
    writeFileSync(join(scratch, 'probe.mjs'), script);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(scratch, 'probe.mjs')], { env: { ...process.env, TZ: 'America/New_York', HOST_ONLY: 'x' } });
    const { host, pid, seen, large } = JSON.parse(stdout.trim().split('\n').pop()!);
    // The host stays in its own zone, so that the function's UTC cannot come from the machine or the host.
    expect(host).toBe(300);
    expect(seen).toEqual({
      offset: 0,
      tz: 'UTC',
      handler: 'src/handler.probe',
      cwd: root,
      read: 'in the task root',
      hostOnly: null,
      node: '24',
      heapMb: expect.any(Number),
      pid: expect.any(Number),
      // The variables Lambda documents for every runtime: its locale, a PATH with the runtime's Node first, its runtime folder.
      lambda: {
        LANG: 'en_US.UTF-8',
        PATH: expect.stringMatching(new RegExp(`node-linux-${process.arch}/bin:/usr/local/bin:/usr/bin:/bin$`)),
        LAMBDA_RUNTIME_DIR: resolve('local/src/cloud/lambda'),
        AWS_DEFAULT_REGION: 'eu-central-1',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      },
    });
    expect(seen.pid).not.toBe(pid);
    // --max-old-space-size from MemorySize: the old generation grows by what MemorySize adds.
    expect(large.heapMb - seen.heapMb).toBe(1024);
  });

  it('unzips the code read-only, and removes it again', async () => {
    const source = join(scratch, 'source');
    mkdirSync(join(source, 'src'), { recursive: true });
    writeFileSync(join(source, 'src', 'handler.mjs'), 'export const h = () => 1;');
    const zip = join(scratch, 'code.zip');
    await run('python3', ['-m', 'zipfile', '-c', zip, 'src'], { cwd: source });
    const dir = join(scratch, 'unzipped');
    mkdirSync(dir);
    await unzip(zip, dir);
    for (const path of [dir, join(dir, 'src'), join(dir, 'src', 'handler.mjs')]) expect(statSync(path).mode & 0o222).toBe(0);
    removeBundle(dir);
    expect(readdirSync(scratch)).not.toContain('unzipped');
  });

  it('names the reserved keys a template sets in a function environment', () => {
    expect(reservedKeys({ TABLE: 't', AWS_REGION: 'x', _HANDLER: 'h', LAMBDA_TASK_ROOT: '/', AWS_ENDPOINT_URL_S3: 'http://s3' })).toEqual(['AWS_REGION', '_HANDLER', 'LAMBDA_TASK_ROOT']);
    expect(reservedKeys({ TABLE: 't' })).toEqual([]);
  });
});
