import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import kinesalite from 'kinesalite';
import { type Listening, listenOnLoopback } from '../http';
import { pickPort } from './ports';

export type Kinesis = Listening;

/** kinesalite in-process: LevelDB under `dir` when persistent, memory otherwise. */
export async function startKinesis(dir: string | undefined, fixedPort?: number): Promise<Kinesis> {
  const port = fixedPort === undefined ? 0 : await pickPort(fixedPort, 'Kinesis');
  const path = dir ? join(dir, 'kinesis') : undefined;
  if (path) mkdirSync(path, { recursive: true });
  const server: Server = kinesalite({ path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  return listenOnLoopback(server, port);
}
