import { type ClientTrackingItem, createClientTracking } from '@dataharvest/shared/client-tracking';
import { type Connection, clientTrackingTable } from './connection';

/** One client as `status --clients --json` prints it: the fixed fields first, the rest after. */
export interface ClientReport {
  client: string;
  batches_in_flight: number;
  last_complete_batch: string | null;
  rows: number;
  bytes: number;
  failures: number;
  files: number;
  in_flight: string[];
  /** Today's counters (UTC): zero when the client's last count was on an earlier day. */
  today: { day: string; files: number; rows: number; bytes: number; failures: number };
  chunks_in_flight: number;
  last_error: ClientTrackingItem['last_error'] | null;
  updated_at: string | null;
}

export function clientReport(item: ClientTrackingItem, now: Date): ClientReport {
  const day = now.toISOString().slice(0, 10);
  const current = item.day === day;
  const today = (n: number | undefined) => (current ? (n ?? 0) : 0);
  const inFlight = [...(item.in_flight ?? [])].sort();
  return {
    client: item.client,
    batches_in_flight: inFlight.length,
    last_complete_batch: item.last_complete_batch ?? null,
    rows: item.rows ?? 0,
    bytes: item.bytes ?? 0,
    failures: item.failures ?? 0,
    files: item.files ?? 0,
    in_flight: inFlight,
    today: { day, files: today(item.files_today), rows: today(item.rows_today), bytes: today(item.bytes_today), failures: today(item.failures_today) },
    chunks_in_flight: item.chunks_in_flight ?? 0,
    last_error: item.last_error ?? null,
    updated_at: item.updated_at ?? null,
  };
}

const line = (c: ClientReport) =>
  `${c.client}: ${c.batches_in_flight} batch(es) in flight, last complete ${c.last_complete_batch ?? 'none'}, ${c.files} files, ${c.rows} rows, ${c.bytes} bytes, ` +
  `${c.failures} failure(s); today ${c.today.files} files, ${c.today.rows} rows${c.chunks_in_flight ? `; ${c.chunks_in_flight} chunk(s) in flight` : ''}` +
  `${c.last_error ? `; last error ${c.last_error.at} ${c.last_error.batch_date}: ${c.last_error.what}` : ''}`;

/** `dataharvest status --clients`: every client's progress, from the client tracking table. */
export async function statusClients(on: Connection, opts: { json: boolean }): Promise<number> {
  const items = await createClientTracking(on.aws.dynamo, clientTrackingTable(on.deployment)).list();
  const clients = items.map((i) => clientReport(i, new Date()));
  if (opts.json) process.stdout.write(`${JSON.stringify({ clients })}\n`);
  else process.stdout.write(clients.length ? `${clients.map(line).join('\n')}\n` : 'no clients\n');
  return 0;
}
