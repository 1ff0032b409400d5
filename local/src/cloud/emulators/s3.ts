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

type Context = {
  method: string;
  get(header: string): string;
  response: { get(header: string): string };
  status: number;
  type: string;
  body: unknown;
};
type Middleware = (ctx: Context, next: () => Promise<void>) => Promise<void>;

const unquoted = (etag: string) => etag.trim().replace(/^W\//, '').replaceAll('"', '');

/**
 * GET and HEAD with If-Match, which s3rver ignores: S3 answers 412 PreconditionFailed when the object's ETag is not
 * the one asked for (a newer upload replaced it), and readers rely on that to never read another upload as theirs.
 */
const ifMatch: Middleware = async (ctx, next) => {
  const wanted = ctx.get('if-match');
  await next();
  if (!wanted || (ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.status >= 300) return;
  const etag = unquoted(ctx.response.get('etag'));
  if (wanted.split(',').some((w) => w.trim() === '*' || unquoted(w) === etag)) return;
  (ctx.body as { destroy?: () => void } | undefined)?.destroy?.();
  ctx.status = 412;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition></Error>';
};

/** s3rver in-process; it emits S3-shaped notifications for every object written, which the local cloud routes. */
export async function startS3(dir: string, fixedPort?: number): Promise<S3> {
  const directory = join(dir, 's3');
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ port: fixedPort === undefined ? 0 : await pickPort(fixedPort, 'S3'), address: '127.0.0.1', silent: true, directory, allowMismatchedSignatures: true });
  // First of all of s3rver's middleware (Koa composes them when the server starts).
  (server as unknown as { middleware: Middleware[] }).middleware.unshift(ifMatch);
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
