import { mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import kinesalite from 'kinesalite';
import { type Listening, listenOnLoopback, refusedHost } from '../http';
import { pickPort } from './ports';
import type { StreamWrites } from './stream-writes';

export type Kinesis = Listening;

/** kinesalite in-process: LevelDB under `dir` when persistent, memory otherwise. */
export async function startKinesis(dir: string | undefined, writes: StreamWrites, fixedPort?: number): Promise<Kinesis> {
  const port = fixedPort === undefined ? 0 : await pickPort(fixedPort, 'Kinesis');
  const path = dir ? join(dir, 'kinesis') : undefined;
  if (path) mkdirSync(path, { recursive: true });
  const server: Server = kinesalite({ path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  // kinesalite's own handler, behind a loopback Host check.
  const [serve] = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  const observe = writes.watchKinesis();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (refusedHost(req, res)) return;
    observe(req, res);
    serve!(req, res);
  });
  return listenOnLoopback(server, port);
}
