import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import kinesalite from 'kinesalite';
import { pickPort } from './ports';

export interface Kinesis {
  endpoint: string;
  stop(): Promise<void>;
}

/** kinesalite in-process: LevelDB under `dir` when persistent, memory otherwise. */
export async function startKinesis(dir: string | undefined, fixedPort?: number): Promise<Kinesis> {
  const port = fixedPort === undefined ? 0 : await pickPort(fixedPort, 'Kinesis');
  const path = dir ? join(dir, 'kinesis') : undefined;
  if (path) mkdirSync(path, { recursive: true });
  const server: Server = kinesalite({ path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the SDK keeps sockets alive; they would hold the process open
      }),
  };
}
