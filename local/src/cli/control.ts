import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where `up` takes commands from other CLI processes (`dataharvest deploy`), kept in cloud.json (mode 0600). */
export interface ControlAddress {
  url: string;
  token: string;
}

export interface Control extends ControlAddress {
  stop(): Promise<void>;
}

/** What `up` does on request: deploys one service of serverless-compose.yml, reads or sets the local clock. */
export interface ControlActions {
  deploy(service: string): Promise<{ functions: string[] }>;
  /** Sets the clock to `time` (an ISO instant with its offset) when given; answers the clock's time. */
  clock(time: string | undefined): { now: string };
}

const MAX_BODY = 4096;

/**
 * A loopback endpoint of `up`: POST /deploy or POST /clock with the start's bearer token and a loopback Host (so neither another
 * user's process without cloud.json nor a DNS-rebinding page can use it). Deploys run one at a time, as
 * CloudFormation updates a stack once at a time.
 */
export async function startControl(actions: ControlActions): Promise<Control> {
  const token = randomBytes(24).toString('hex');
  let queue: Promise<unknown> = Promise.resolve();
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: Error) => answer(res, 500, { error: error.message }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { port } = server.address() as AddressInfo;
    if (req.headers.host !== `127.0.0.1:${port}`) return answer(res, 403, { error: 'not a loopback request' });
    if (!authorized(req.headers.authorization, token)) return answer(res, 401, { error: 'no valid token' });
    if (req.method !== 'POST' || (req.url !== '/deploy' && req.url !== '/clock')) return answer(res, 404, { error: 'POST /deploy or /clock only' });
    const input = JSON.parse(await body(req)) as { service?: unknown; time?: unknown };
    if (req.url === '/clock') {
      if (input.time !== undefined && typeof input.time !== 'string') return answer(res, 400, { error: 'time must be a string' });
      try {
        return answer(res, 200, actions.clock(input.time));
      } catch (error) {
        return answer(res, 400, { error: (error as Error).message });
      }
    }
    const service = input.service;
    if (typeof service !== 'string' || !service) return answer(res, 400, { error: 'the body names no service' });
    const deployed = queue.then(() => actions.deploy(service));
    queue = deployed.catch(() => undefined);
    answer(res, 200, await deployed.catch((error: Error) => ({ error: error.message })));
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function authorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer /, '') ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_BODY) throw new Error('request body too large');
  }
  return text;
}

function answer(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
}

/** One command to the `up` at `control`: its answer, or the error it reports. */
async function request<T>(control: ControlAddress, path: '/deploy' | '/clock', input: object): Promise<T | { error: string }> {
  const response = await fetch(`${control.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  return (await response.json()) as T | { error: string };
}

/** Asks the `up` at `control` to deploy `service`: the functions it runs afterwards, or the deploy's error. */
export const requestDeploy = (control: ControlAddress, service: string) => request<{ functions: string[] }>(control, '/deploy', { service });

/** Asks the `up` at `control` for its clock's time, setting it first when `time` is given. */
export const requestClock = (control: ControlAddress, time?: string) => request<{ now: string }>(control, '/clock', { time });
