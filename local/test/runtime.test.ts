import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { reservedKeys } from '../src/cloud/function-environment';
import { removeBundle, unzip } from '../src/cloud/unzip';

const run = promisify(execFile);
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'dataharvest-runtime-'));
});
afterAll(() => removeBundle(scratch));

describe('the function runtime', () => {
  /**
   * In a child process whose host time zone is not UTC: under jest, process.env is a copy, and setting it would not
   * reach Node's time zone. The function reports what it sees.
   */
  it('runs a function in UTC, in its task root, with _HANDLER set, whatever the host', async () => {
    const root = join(scratch, 'task');
    mkdirSync(join(root, 'src'), { recursive: true });
    writeFileSync(
      join(root, 'src', 'handler.mjs'),
      `import { resolve } from 'node:path';
export const probe = async () => ({ offset: new Date().getTimezoneOffset(), tz: process.env.TZ, handler: process.env._HANDLER, cwd: process.cwd(), resolved: resolve('data.csv') });`,
    );
    const script = `import { Runtime } from ${JSON.stringify(resolve('local/src/cloud/runtime.ts'))};
const runtime = new Runtime(() => {}, () => {});
runtime.add({ name: 'probe', service: 'svc', dir: ${JSON.stringify(root)}, handler: 'src/handler.probe', env: {}, timeoutSeconds: 10, memoryMb: 128, runtime: 'nodejs22.x' });
console.log(JSON.stringify({ host: new Date().getTimezoneOffset(), seen: await runtime.invoke('probe', {}) }));
await runtime.stop();`;
    // Checked first, so that the test cannot pass because the machine is in UTC anyway.
    const { stdout: before } = await run(process.execPath, ['--input-type=module', '-e', 'console.log(new Date(2024, 0, 1).getTimezoneOffset())'], { env: { ...process.env, TZ: 'America/New_York' } });
    expect(before.trim()).toBe('300');
    // A file, not -e: workers inherit the process's execArgv.
    writeFileSync(join(scratch, 'probe.mjs'), script);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(scratch, 'probe.mjs')], { env: { ...process.env, TZ: 'America/New_York' } });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
      host: 0,
      seen: { offset: 0, tz: 'UTC', handler: 'src/handler.probe', cwd: root, resolved: join(root, 'data.csv') },
    });
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
