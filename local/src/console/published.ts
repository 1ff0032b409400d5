import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type Connection, eventsStream, ingestBucket } from '../cli/connection';
import { EventSelection } from '../cli/event-selection';
import { StreamReader } from '../cli/stream-reader';
import type { EventsResult } from './api';

/** What the console reads only when asked (an expanded batch, a clicked link): an answer's status and JSON body. */
export interface Answer {
  status: number;
  body: string;
}

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const bad = (error: string): Answer => ({ status: 400, body: JSON.stringify({ error }) });

/** GET /api/events?client=C&date=D: a batch's events as `events --client C --date D --json` prints them. */
export async function batchEvents(on: Connection, query: URLSearchParams): Promise<Answer> {
  const client = query.get('client') ?? '';
  const date = query.get('date') ?? '';
  if (!CLIENT_ID.test(client) || !/^\d{8}$/.test(date)) return bad('give client=<id>&date=<YYYYMMDD>');
  const selection = new EventSelection({ client, date, allVersions: false });
  selection.add(await new StreamReader(on.aws.kinesis, eventsStream(on.deployment)).read());
  return { status: 200, body: JSON.stringify({ events: selection.events() } satisfies EventsResult) };
}

/**
 * GET /api/report?key=errors/….json: a refused upload's report as persistence stored it. Only reports: the page shows
 * what `status` shows, and a report holds lines, columns and reasons, never a row's values.
 */
export async function storedReport(on: Connection, query: URLSearchParams): Promise<Answer> {
  const key = query.get('key') ?? '';
  if (!key.startsWith('errors/') || !key.endsWith('.json') || key.split('/').some((s) => s === '.' || s === '..')) return bad('key must be a report, errors/….json');
  try {
    const object = await on.aws.s3.send(new GetObjectCommand({ Bucket: ingestBucket(on.deployment), Key: key }));
    return { status: 200, body: await object.Body!.transformToString('utf8') };
  } catch (error) {
    if ((error as Error).name !== 'NoSuchKey') throw error;
    return { status: 404, body: JSON.stringify({ error: `no report ${key} in the ingest bucket` }) };
  }
}
