import type { AddressInfo } from 'node:net';
import { buildApp } from 'fauxqs';

export interface Sqs { endpoint: string; stop(): Promise<void> }

/**
 * fauxqs in-process, for the on-failure queues. Built with buildApp rather than startFauxqs, which would listen on
 * every interface; its queues live in memory (fauxqs has no persistence), and deploy recreates them.
 */
export async function startSqs(region = 'eu-central-1'): Promise<Sqs> {
  const app = buildApp({ logger: false, defaultRegion: region });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { endpoint: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, stop: () => app.close() };
}
