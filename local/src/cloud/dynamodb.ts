import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CloudError } from './errors';
import { freePort, waitForPort } from './ports';

export interface DynamoDb { endpoint: string; stop(): Promise<void> }

/** AWS's DynamoDB Local (shipped in npm `amplify-dynamodb-simulator`), streams included, on a free port. */
export async function startDynamoDb(dir: string | undefined, log: (l: string) => void): Promise<DynamoDb> {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) throw new CloudError('DynamoDB Local needs Java 17 or later: install a JDK (e.g. apt-get install openjdk-17-jre-headless) and try again');
  const major = Number(/version "(\d+)/.exec(java.stderr)?.[1] ?? 0);
  if (major < 17) throw new CloudError(`DynamoDB Local needs Java 17 or later, found Java ${major}: install a newer JDK`);

  const home = join(dirname(createRequire(import.meta.url).resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  const port = await freePort();
  const storage = dir ? ['-dbPath', (mkdirSync(join(dir, 'dynamodb'), { recursive: true }), join(dir, 'dynamodb'))] : ['-inMemory'];
  const child = spawn('java', ['-Xmx512m', `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`, '-jar', join(home, 'DynamoDBLocal.jar'), '-port', String(port), '-sharedDb', ...storage], {
    cwd: home, stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (d: Buffer) => log(`dynamodb: ${d.toString().trim()}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([waitForPort(port, 30_000, 'DynamoDB Local'), exited.then(() => { throw new CloudError('DynamoDB Local exited at start-up: is its data directory locked by another cloud?'); })]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
