import type { AddressInfo } from 'node:net';
import { buildApp } from 'fauxqs';
import { pickPort } from './ports';

export interface Sqs { endpoint: string; stop(): Promise<void> }

/**
 * fauxqs in-process, for the on-failure queues. Built with buildApp rather than startFauxqs, which would listen on
 * every interface; its queues live in memory (fauxqs has no persistence), and deploy recreates them.
 */
export async function startSqs(region = 'eu-central-1', fixedPort?: number): Promise<Sqs> {
  const app = buildApp({ logger: false, defaultRegion: region });
  await app.listen({ port: fixedPort === undefined ? 0 : await pickPort(fixedPort, 'SQS'), host: '127.0.0.1' });
  return { endpoint: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, stop: () => app.close() };
}
