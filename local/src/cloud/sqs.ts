import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildApp, type BuildAppOptions } from 'fauxqs';
import { pickPort } from './ports';

export interface Sqs {
  endpoint: string;
  stop(): Promise<void>;
}

type Stores = NonNullable<BuildAppOptions['stores']>;

/**
 * fauxqs's stores, which its package does not export. We need our own SqsStore to clear its `host`: by default
 * queue URLs name `sqs.<region>.localhost`, which does not resolve here, and the SDK sends to a QueueUrl's host.
 * Without a host, a queue URL names the host the request came to: the loopback endpoint.
 */
async function stores(): Promise<Stores> {
  // The exports map hides even package.json from require.resolve: look for the package where Node would.
  const root = createRequire(import.meta.url)
    .resolve.paths('fauxqs')!
    .map((dir) => join(dir, 'fauxqs'))
    .find((dir) => existsSync(join(dir, 'package.json')))!;
  const dist = join(root, 'dist');
  const load = async (path: string, name: string) => new ((await import(pathToFileURL(join(dist, path)).href)) as Record<string, new () => unknown>)[name]!();
  const sqsStore = (await load('sqs/sqsStore.js', 'SqsStore')) as Stores['sqsStore'];
  sqsStore.host = '';
  return { sqsStore, snsStore: (await load('sns/snsStore.js', 'SnsStore')) as Stores['snsStore'], s3Store: (await load('s3/s3Store.js', 'S3Store')) as Stores['s3Store'] };
}

/**
 * fauxqs in-process, for the on-failure queues. Built with buildApp rather than startFauxqs, which would listen on
 * every interface; its queues live in memory (fauxqs has no persistence), and deploy recreates them.
 */
export async function startSqs(region = 'eu-central-1', fixedPort?: number): Promise<Sqs> {
  const app = buildApp({ logger: false, defaultRegion: region, stores: await stores() });
  await app.listen({ port: fixedPort === undefined ? 0 : await pickPort(fixedPort, 'SQS'), host: '127.0.0.1' });
  return { endpoint: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, stop: () => app.close() };
}
