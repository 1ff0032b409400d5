import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * `npm start`'s packaging step, in a repository of one service (the metastore, quick to package) that shares the
 * checkout's node_modules, shared/ and events/: real `serverless` runs, no other engineer's .serverless/ is touched.
 */
describe('package-changed', () => {
  const root = mkdtempSync(join(tmpdir(), 'dataharvest-package-'));
  const template = join(root, 'metastore', '.serverless', 'cloudformation-template-update-stack.json');
  const packageChanged = async (...args: string[]) => {
    const { stderr } = await promisify(execFile)('node', [resolve('local/bin/package-changed.mjs'), ...args], { cwd: root, timeout: 120_000 });
    return stderr.split('\n')[0];
  };

  beforeAll(() => {
    for (const shared of ['node_modules', 'shared', 'events', 'package-lock.json', 'tsconfig.json', 'package.json']) symlinkSync(resolve(shared), join(root, shared));
    mkdirSync(join(root, 'metastore'));
    for (const file of ['serverless.yml', 'package.json']) copyFileSync(join('metastore', file), join(root, 'metastore', file));
    writeFileSync(join(root, 'serverless-compose.yml'), 'services:\n  metastore:\n    path: metastore\n');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('packages a service once, and skips it while nothing it is built from changed', async () => {
    expect(await packageChanged()).toBe('packaging metastore');
    const packaged = statSync(template).mtimeMs;
    expect(await packageChanged()).toBe('packaging: no service changed since its last packaging');
    expect(statSync(template).mtimeMs).toBe(packaged);
  });

  it('packages it again when its serverless.yml changed', async () => {
    appendFileSync(join(root, 'metastore', 'serverless.yml'), '# edited\n');
    expect(await packageChanged()).toBe('packaging metastore');
    expect(await packageChanged()).toBe('packaging: no service changed since its last packaging');
  });

  it('packages it again for another stage, and when something else rewrote its package', async () => {
    expect(await packageChanged('--stage', 'prod')).toBe('packaging metastore');
    expect(await packageChanged('--stage', 'prod')).toBe('packaging: no service changed since its last packaging');
    expect(await packageChanged()).toBe('packaging metastore');
    appendFileSync(template, ' ');
    expect(await packageChanged()).toBe('packaging metastore');
  });

  it('--only considers the one service `dataharvest deploy` names, and refuses one compose does not list', async () => {
    expect(await packageChanged('--only', 'metastore')).toBe('packaging: metastore has not changed since its last packaging');
    appendFileSync(join(root, 'metastore', 'serverless.yml'), '# edited again\n');
    expect(await packageChanged('--only', 'metastore')).toBe('packaging metastore');
    await expect(packageChanged('--only', 'fx-exposure')).rejects.toMatchObject({ code: 2, stderr: 'packaging: serverless-compose.yml has no service fx-exposure\n' });
  });

  it('--all packages every service whatever changed', async () => {
    expect(await packageChanged('--all')).toBe('packaging metastore');
  });
});
