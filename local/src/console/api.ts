import type { BatchReport } from '../cli/batch-report';
import type { ExpectedBoard } from '../cli/expected';
import type { PublishedEvent } from '../cli/event-selection';
import type { QueuedFailure } from '../cli/failure-queues';
import type { FileReportEntry } from '../cli/file-reports';
import type { StatusReport } from '../cli/status';
import type { ClientReport } from '../cli/status-clients';

/** The console's JSON API, shared by its server and its page (types only: the page bundle takes none of the CLI). */

/** One message of an on-failure queue as the page lists it (`failures` lists the same); `id` is what a redrive takes. */
export type QueuedView = Pick<QueuedFailure, 'id' | 'service' | 'condition' | 'client' | 'batchDate' | 'generation' | 'reason' | 'attempts' | 'firstSeen' | 'lastSeen'> & {
  /** Mapped to a batch in the metastore, or about an upload: a redrive can re-trigger its step (else it stays queued). */
  redrivable: boolean;
};

/** GET /api/state. */
export interface ConsoleState {
  at: string;
  clients: ClientReport[];
  batches: BatchReport[];
  rejected: StatusReport['rejected'];
  /** Refused and leniently loaded uploads, as `reports --json` lists them: each links to its report. */
  reports: FileReportEntry[];
  queued: QueuedView[];
  /** Every scheduled client's last business days (`status --expected` for each), on the local cloud's clock. */
  board?: ExpectedBoard;
}

/** GET /api/events?client=C&date=D: the batch's published events, the highest version per portfolio (`events --json`). */
export interface EventsResult {
  events: PublishedEvent[];
}

/** POST /api/redrive answers with redrive's exit code (0: re-triggered, 1: left queued) or why it refused. */
export interface RedriveResult {
  code: number;
  error?: string;
}

export const TOKEN_HEADER = 'x-console-token';
