import type { SQSClient } from '@aws-sdk/client-sqs';
import { STAGES } from '@dataharvest/events/batch';
import { createClientTracking } from '@dataharvest/shared/client-tracking';
import type { DeliverySchedules } from '@dataharvest/shared/delivery-schedule';
import { type Connection, clientTrackingTable } from '../cli/connection';
import { expectedBoard } from '../cli/expected';
import { type QueuedFailure, readFailures, release } from '../cli/failure-queues';
import { fileReports } from '../cli/file-reports';
import { clientReport } from '../cli/status-clients';
import { statusReport } from '../cli/status';
import type { ConsoleState, QueuedView } from './api';

/** What the page shows of a queued message: what `failures --json` prints, no receipt handle or queue internals. */
const view = (f: QueuedFailure): QueuedView => ({
  id: f.id,
  service: f.service,
  condition: f.condition,
  client: f.client,
  batchDate: f.batchDate,
  generation: f.generation,
  reason: f.reason,
  attempts: f.attempts,
  firstSeen: f.firstSeen,
  lastSeen: f.lastSeen,
  redrivable: Boolean(f.failure ?? f.objectKey ?? f.erasure),
});

/**
 * The on-failure queues, read as `dataharvest failures` reads them (SQS has no peek: each message is hidden while
 * read, then released at once), mapped to the failure items of the index. Run through `exclusive`, so a read never
 * hides the message a redrive looks for.
 */
export async function queuedFailures(on: Connection, sqs: SQSClient): Promise<QueuedView[]> {
  const queued = await readFailures(on, sqs, undefined, on.metastore.listFailuresFromIndex);
  await release(sqs, queued);
  return queued.map(view);
}

/**
 * Everything the page shows, from the same sources and in the same shapes as `status --json` and
 * `status --clients --json`: every client's tracking, every batch (with its failure items) and every key refused
 * outright; with the delivery schedules, the completeness board, judged on the local cloud's clock. A poll costs the same few reads whatever the number of clients: a query per stage, one of the refused
 * keys, one of the failure items (all through the by-stage index) and the tracking table's scan.
 */
export async function consoleState(on: Connection, queued: QueuedView[], now = new Date(), expected?: { schedules: DeliverySchedules; clock: Date }): Promise<ConsoleState> {
  const [batches, rejected, tracked, failures] = await Promise.all([
    on.metastore.listByStages(STAGES),
    on.metastore.listRejectedKeys(),
    createClientTracking(on.aws.dynamo, clientTrackingTable(on.deployment)).list(),
    on.metastore.listFailuresFromIndex(),
  ]);
  const report = statusReport(batches, rejected, failures, now.getTime());
  return {
    at: now.toISOString(),
    clients: tracked.map((c) =>
      clientReport(
        c,
        now,
        queued.filter((q) => q.client === c.client),
      ),
    ),
    batches: report.batches,
    rejected: report.rejected,
    reports: fileReports(batches, rejected),
    queued,
    ...(expected ? { board: expectedBoard(expected.schedules, batches, expected.clock) } : {}),
  };
}
