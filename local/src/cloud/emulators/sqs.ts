import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, ListQueuesCommand, type Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp, type BuildAppOptions } from 'fauxqs';
import { isLoopbackHost } from '../http';
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
 * every interface. Its queues live in memory (fauxqs has no persistence): with `snapshotFile` (a persistent data dir),
 * stop() writes every queue and its messages there and the next start puts them back, so what sits in an on-failure
 * queue survives a restart of `up`. Restored messages are sent again: new message ids, the body unchanged.
 */
export async function startSqs(region = 'eu-central-1', fixedPort?: number, snapshotFile?: string): Promise<Sqs> {
  const app = buildApp({ logger: false, defaultRegion: region, stores: await stores() });
  // A Host that is not loopback (a DNS-rebinding page's) is refused before fauxqs reads the request.
  type Reply = { code(status: number): { type(type: string): { send(body: string): void } } };
  app.addHook('onRequest', (req: { headers: { host?: string } }, reply: Reply, done: () => void) =>
    isLoopbackHost(req.headers.host) ? done() : reply.code(421).type('text/plain').send('misdirected request\n'),
  );
  await app.listen({ port: fixedPort === undefined ? 0 : await pickPort(fixedPort, 'SQS'), host: '127.0.0.1' });
  const endpoint = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const sqs = new SQSClient({ region, endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  if (snapshotFile && existsSync(snapshotFile)) await restore(sqs, JSON.parse(readFileSync(snapshotFile, 'utf8')) as Snapshot);
  return {
    endpoint,
    stop: async () => {
      try {
        if (snapshotFile) writeFileSync(snapshotFile, JSON.stringify(await snapshot(sqs)), { mode: 0o600 });
      } finally {
        sqs.destroy();
        await app.close();
      }
    },
  };
}

/** The attributes deploy sets on a queue (resources.ts): restored as they were, so deploying again matches them. */
const KEPT_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
  'RedrivePolicy',
];

type Snapshot = Array<{ name: string; attributes: Record<string, string>; messages: Array<{ body: string; groupId?: string }> }>;

async function snapshot(sqs: SQSClient): Promise<Snapshot> {
  const out: Snapshot = [];
  for (const url of (await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? []) {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    const attributes = Object.fromEntries(Object.entries(Attributes).filter(([k]) => KEPT_ATTRIBUTES.includes(k)));
    // Received for the last time: the process ends, so hiding them does not matter; a redelivery is never counted twice.
    const messages = new Map<string, Message>();
    for (;;) {
      const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 3600, MessageSystemAttributeNames: ['MessageGroupId'] }))).Messages ?? [];
      if (!got.length) break;
      for (const m of got) messages.set(m.MessageId!, m);
    }
    const bodies = [...messages.values()].map((m) => ({ body: m.Body ?? '', groupId: m.Attributes?.MessageGroupId }));
    out.push({ name: url.split('/').at(-1)!, attributes, messages: bodies });
  }
  return out;
}

async function restore(sqs: SQSClient, queues: Snapshot): Promise<void> {
  for (const queue of queues) {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queue.name, Attributes: queue.attributes }));
    for (const m of queue.messages) {
      const fifo = m.groupId ? { MessageGroupId: m.groupId, MessageDeduplicationId: randomUUID() } : {};
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: m.body, ...fifo }));
    }
  }
}
