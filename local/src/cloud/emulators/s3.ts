import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import S3rver from 's3rver';
import { isLoopbackHost } from '../http';
import { pickPort } from './ports';
import { archivedObjects } from './s3-archived';
import { uploadPartCopy } from './s3-part-copy';
import { SafeStore } from './s3-store';

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
  path: string;
  query: Record<string, string | string[] | undefined>;
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

/** A request whose Host is not loopback (a DNS-rebinding page's) is refused before s3rver reads it. */
const loopbackOnly: Middleware = async (ctx, next) => {
  if (isLoopbackHost(ctx.get('host'))) return next();
  ctx.status = 421;
  ctx.type = 'text/plain';
  ctx.body = 'misdirected request\n';
};

/**
 * Control characters in XML answers (keys in a listing) as character references, as S3 writes them: a raw CR would
 * reach the client as LF (XML's line-end normalisation), and the key it lists would not be the key stored.
 */
const xmlControls: Middleware = async (ctx, next) => {
  await next();
  // C0 controls but TAB and LF (which XML keeps as they are); DEL and C1 are plain characters in XML 1.0.
  const reference = (c: string) => (c === '\t' || c === '\n' || c.charCodeAt(0) > 0x1f ? c : `&#${c.charCodeAt(0)};`);
  if (typeof ctx.body === 'string' && ctx.type === 'application/xml') ctx.body = ctx.body.replace(/\p{Cc}/gu, reference);
};

/** s3rver leaves the eTag out of a copy's event, which S3 gives as for any created object: the copy's ETag. */
function withCopyETag(event: S3ObjectEvent, store: SafeStore): S3ObjectEvent {
  const record = event.Records[0];
  if (record?.eventName !== 'ObjectCreated:Copy' || record.s3.object.eTag !== undefined) return event;
  const eTag = store.etagNow(record.s3.bucket.name, record.s3.object.key);
  return { Records: [{ ...record, s3: { ...record.s3, object: { ...record.s3.object, ...(eTag === undefined ? {} : { eTag }) } } }] };
}

/** s3rver in-process; it emits S3-shaped notifications for every object written, which the local cloud routes. */
export async function startS3(dir: string, fixedPort?: number): Promise<S3> {
  const directory = join(dir, 's3');
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ port: fixedPort === undefined ? 0 : await pickPort(fixedPort, 'S3'), address: '127.0.0.1', silent: true, directory, allowMismatchedSignatures: true });
  // Objects under hashed file names: no key names a path outside the bucket's folder (s3-store.ts).
  const internals = server as unknown as { store: unknown; context: { store: unknown }; middleware: Middleware[] };
  const store = new SafeStore(directory);
  internals.store = internals.context.store = store;
  // First of all of s3rver's middleware (Koa composes them when the server starts).
  internals.middleware.unshift(loopbackOnly, xmlControls, ifMatch, archivedObjects, uploadPartCopy(store));
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    onEvent: (listener) => (server as unknown as EventEmitter).on('event', (event: S3ObjectEvent) => listener(withCopyETag(event, store))),
    stop: async () => {
      const closed = server.close();
      (server as unknown as { httpServer: import('node:http').Server }).httpServer.closeAllConnections(); // as for kinesalite
      await closed;
    },
  };
}
