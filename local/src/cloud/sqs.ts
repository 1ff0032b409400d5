import { startFauxqs } from 'fauxqs';

export interface Sqs { endpoint: string; stop(): Promise<void> }

/** fauxqs in-process for the on-failure queues (its S3 lacks event notifications, so S3 stays on s3rver). */
export async function startSqs(): Promise<Sqs> {
  const server = await startFauxqs({ port: 0, logger: false });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}
