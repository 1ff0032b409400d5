import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import S3rver from 's3rver';
import { pickPort } from './ports';

export interface S3ObjectEvent {
  Records: Array<{ eventName: string; s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer: string } } }>;
}

export interface S3 {
  endpoint: string;
  onEvent(listener: (event: S3ObjectEvent) => void): void;
  stop(): Promise<void>;
}

/** s3rver in-process; it emits S3-shaped notifications for every object written, which the local cloud routes. */
export async function startS3(dir: string, fixedPort?: number): Promise<S3> {
  const directory = join(dir, 's3');
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ port: fixedPort === undefined ? 0 : await pickPort(fixedPort, 'S3'), address: '127.0.0.1', silent: true, directory, allowMismatchedSignatures: true });
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    onEvent: (listener) => (server as unknown as EventEmitter).on('event', listener),
    stop: async () => {
      const closed = server.close();
      (server as unknown as { httpServer: import('node:http').Server }).httpServer.closeAllConnections(); // as for kinesalite
      await closed;
    },
  };
}
