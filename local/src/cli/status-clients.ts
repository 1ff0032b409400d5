import type { SQSClient } from '@aws-sdk/client-sqs';
import { type ClientTrackingItem, createClientTracking } from '@dataharvest/shared/client-tracking';
import { type Connection, clientTrackingTable } from './connection';
import { readFailures, release, sqsClient } from './failure-queues';
import { standings } from './failure-resolution';

/** One client as `status --clients --json` prints it: the fixed fields first, the rest after. */
export interface ClientReport {
  client: string;
  batches_in_flight: number;
  last_complete_batch: string | null;
  /** Rows and bytes of the files loaded now: a corrected upload's replace the earlier one's. */
  rows: number;
  bytes: number;
  /** Every kind: files refused, and records or uploads whose retries ran out and still wait in an on-failure queue. */
  failures: number;
  refused_files: number;
  failures_waiting: number;
  files: number;
  in_flight: string[];
  /** Today's counters (UTC): zero when the client's last count was on an earlier day. */
  today: { day: string; files: number; rows: number; bytes: number; failures: number };
  chunks_in_flight: number;
  last_error: ClientTrackingItem['last_error'] | null;
  updated_at: string | null;
}

/** A message waiting in an on-failure queue, as far as counting it goes. */
export interface WaitingFailure {
  client?: string;
  lastSeen: string;
}

/** One client's figures: its tracking item's counters, and `waiting`, its messages in the on-failure queues. */
export function clientReport(item: ClientTrackingItem, now: Date, waiting: WaitingFailure[] = []): ClientReport {
  const day = now.toISOString().slice(0, 10);
  const current = item.day === day;
  const today = (n: number | undefined) => (current ? (n ?? 0) : 0);
  const inFlight = [...(item.in_flight ?? [])].sort();
  const refused = item.failures ?? 0;
  return {
    client: item.client,
    batches_in_flight: inFlight.length,
    last_complete_batch: item.last_complete_batch ?? null,
    rows: item.rows ?? 0,
    bytes: item.bytes ?? 0,
    failures: refused + waiting.length,
    refused_files: refused,
    failures_waiting: waiting.length,
    files: item.files ?? 0,
    in_flight: inFlight,
    today: {
      day,
      files: today(item.files_today),
      rows: today(item.rows_today),
      bytes: today(item.bytes_today),
      failures: today(item.failures_today) + waiting.filter((w) => w.lastSeen.startsWith(day)).length,
    },
    chunks_in_flight: item.chunks_in_flight ?? 0,
    last_error: item.last_error ?? null,
    updated_at: item.updated_at ?? null,
  };
}

const line = (c: ClientReport) =>
  `${c.client}: ${c.batches_in_flight} batch(es) in flight, last complete ${c.last_complete_batch ?? 'none'}, ${c.files} files, ${c.rows} rows, ${c.bytes} bytes, ` +
  `${c.failures} failure(s) (${c.refused_files} refused file(s), ${c.failures_waiting} waiting in an on-failure queue); today ${c.today.files} files, ${c.today.rows} rows${c.chunks_in_flight ? `; ${c.chunks_in_flight} chunk(s) in flight` : ''}` +
  `${c.last_error ? `; last error ${c.last_error.at} ${c.last_error.batch_date}: ${c.last_error.what}` : ''}`;

/**
 * `dataharvest status --clients`: every client's progress, from the client tracking table, with what waits for it in
 * the on-failure queues (a client known only from those is listed too). Messages whose batch moved on since do not count.
 */
export async function statusClients(on: Connection, opts: { json: boolean }, sqs: SQSClient = sqsClient(on)): Promise<number> {
  const [items, queued] = await Promise.all([createClientTracking(on.aws.dynamo, clientTrackingTable(on.deployment)).list(), readFailures(on, sqs)]);
  await release(sqs, queued);
  const standing = await standings(on, queued);
  const waiting = queued.filter((f) => f.client && !standing.get(f.id)?.resolved);
  const known = new Set(items.map((i) => i.client));
  const untracked = [...new Set(waiting.map((f) => f.client!))].filter((c) => !known.has(c)).map((client) => ({ client }));
  const now = new Date();
  const clients = [...items, ...untracked]
    .sort((a, b) => a.client.localeCompare(b.client))
    .map((i) =>
      clientReport(
        i,
        now,
        waiting.filter((f) => f.client === i.client),
      ),
    );
  if (opts.json) process.stdout.write(`${JSON.stringify({ clients })}\n`);
  else process.stdout.write(clients.length ? `${clients.map(line).join('\n')}\n` : 'no clients\n');
  return 0;
}
