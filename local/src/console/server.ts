import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { CloudError } from '../cloud/errors';
import type { Connection } from '../cli/connection';
import { UsageError } from '../cli/errors';
import { packagedSchedules } from '../cli/expected';
import { sqsClient } from '../cli/failure-queues';
import { redrive } from '../cli/failures';
import { type ConsoleState, type QueuedView, type RedriveResult, TOKEN_HEADER } from './api';
import { page, styles } from './page';
import { type Answer, batchEvents, storedReport } from './published';
import { consoleState, queuedFailures } from './state';

export interface Console {
  url: string;
  stop(): Promise<void>;
}

/** How long the on-failure queues' listing is reused: reading them hides their messages for a moment. */
const QUEUES_FRESH_MS = 2000;
const MAX_BODY = 4096;

/** The page's bundle, built by `npm run build` next to the CLI (local/dist), whether this runs from there or from src. */
function bundle(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const path = join(basename(here) === 'dist' ? here : join(here, '../../dist'), 'console.js');
  if (!existsSync(path)) throw new CloudError(`the status console is not built (no ${path}): run \`npm run build\``);
  return readFileSync(path, 'utf8');
}

/**
 * The status console of `dataharvest up`: a page and its JSON API on 127.0.0.1 only. The redrive endpoint takes POST
 * with JSON and the token of this start (embedded in the page): another origin can neither read the token nor send
 * that request without a CORS preflight, which is never granted. The Host header must name loopback (no DNS rebinding).
 */
export async function startConsole(on: Connection, port = 0, sqs: SQSClient = sqsClient(on), clock: () => Date = () => new Date()): Promise<Console> {
  const script = bundle();
  const token = randomBytes(24).toString('base64url');
  // Queue reads and redrives one at a time: a read in flight hides the very message a redrive looks for.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  let queued: { at: number; list: QueuedView[] } | undefined;
  const currentQueued = () =>
    exclusive(async () => {
      if (!queued || Date.now() - queued.at > QUEUES_FRESH_MS) queued = { at: Date.now(), list: await queuedFailures(on, sqs) };
      return queued.list;
    });

  let origin = '';
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, 'application/json', JSON.stringify({ error: (error as Error).message })));
  });
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', origin);
    if (req.headers.host !== new URL(origin).host && req.headers.host !== `localhost:${new URL(origin).port}`) return send(res, 421, 'text/plain', 'misdirected request\n');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /') return send(res, 200, 'text/html; charset=utf-8', page(token));
    if (route === 'GET /console.js') return send(res, 200, 'text/javascript; charset=utf-8', script);
    if (route === 'GET /console.css') return send(res, 200, 'text/css; charset=utf-8', styles);
    if (route === 'GET /favicon.ico') return send(res, 204, 'image/x-icon', '');
    if (route === 'GET /api/state') {
      const state: ConsoleState = await consoleState(on, await currentQueued(), new Date(), boardInput(clock()));
      return send(res, 200, 'application/json', JSON.stringify(state));
    }
    const answer = (a: Answer) => send(res, a.status, 'application/json', a.body);
    if (route === 'GET /api/events') return answer(await batchEvents(on, url.searchParams));
    if (route === 'GET /api/report') return answer(await storedReport(on, url.searchParams));
    if (url.pathname === '/api/redrive') {
      if (req.method !== 'POST') return send(res, 405, 'text/plain', 'POST only\n', { allow: 'POST' });
      const refusal = checkRequest(req, origin, token);
      if (refusal) return send(res, 403, 'application/json', JSON.stringify({ error: refusal }));
      const id = parseId(await readBody(req));
      if (!id) return send(res, 400, 'application/json', JSON.stringify({ error: 'the body must be {"id": "<message id>"}' }));
      const result = await exclusive(async (): Promise<RedriveResult> => {
        queued = undefined;
        try {
          return { code: await redrive(on, { id, all: false }, sqs) };
        } catch (error) {
          if (error instanceof UsageError) return { code: 2, error: error.message };
          throw error;
        }
      });
      return send(res, result.code === 2 ? 404 : 200, 'application/json', JSON.stringify(result));
    }
    return send(res, 404, 'text/plain', 'not found\n');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new CloudError(`the console port ${port} is in use: choose another --console-port or leave it out for a free one`, { cause: e }) : e),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The schedules packaged in this checkout (as `status --expected` reads them), read per poll: a redeploy changes them. */
function boardInput(clock: Date) {
  try {
    return { schedules: packagedSchedules(), clock };
  } catch (error) {
    // Not packaged (yet, or being re-packaged): the page shows no board rather than no state.
    if (error instanceof CloudError || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Why a redrive request is refused, if it is: not JSON, not from the page's origin, or without this start's token. */
export function checkRequest(req: Pick<IncomingMessage, 'headers'>, origin: string, token: string): string | undefined {
  if (!req.headers['content-type']?.startsWith('application/json')) return 'the body must be application/json';
  if (req.headers.origin !== undefined && req.headers.origin !== origin) return 'another origin may not redrive';
  const given = Buffer.from(String(req.headers[TOKEN_HEADER] ?? ''));
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the console token is missing or wrong: reload the page';
  return undefined;
}

function parseId(body: string): string | undefined {
  try {
    const { id } = JSON.parse(body) as { id?: unknown };
    return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BODY) break;
  }
  return body;
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // Scripts and styles from this server only; no framing (a redrive button is no target for clickjacking).
    'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    'referrer-policy': 'no-referrer',
    ...headers,
  });
  res.end(body);
}
