import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { Batch, FILE_TYPES, type FileDetail, RejectedKey } from '@dataharvest/events/batch';
import { errorPlace } from '@dataharvest/events/error-place';
import type { Notification } from '@dataharvest/events/notification';

/** One item change as Kinesis Data Streams for DynamoDB writes it: the record's data is this JSON. */
export interface ItemChange {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  dynamodb: { Keys: Record<string, AttributeValue>; NewImage?: Record<string, AttributeValue>; OldImage?: Record<string, AttributeValue> };
}

/** The outcomes a batch settles in; every other stage is work in progress. */
const OUTCOMES = { COMPLETE: 'SUCCESS', FAILED: 'FAILURE', REJECTED: 'FAILURE' } as const;
const SETTLED_FILE = { PERSISTED: 'SUCCESS', REJECTED: 'FAILURE' } as const;

const idOf = (...parts: Array<string | number>) => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
const fileName = (key: string) => key.split('/').pop() ?? key;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The notifications one change of the metastore stands for: transitions from its OldImage to its NewImage. */
export function notificationsOf(change: ItemChange): Notification[] {
  const { NewImage, OldImage } = change.dynamodb;
  if (change.eventName === 'REMOVE' || !NewImage) return [];
  const sk = NewImage.sk?.S ?? '';
  if (sk.startsWith('REJECTED#')) return refusedKey(RejectedKey.parse(unmarshall(NewImage)), OldImage && unmarshall(OldImage));
  if (!sk.startsWith('BATCH#')) return [];
  const next = Batch.parse(unmarshall(NewImage));
  // An old image is the previous state of the same item: parsed loosely, as only stage, generation and files matter.
  const previous = OldImage ? (unmarshall(OldImage) as Partial<Batch>) : {};
  return [...settledFiles(next, previous), ...outcome(next, previous), ...lateness(next, previous)];
}

/** The delivery check recording the batch LATE (services/delivery): which owed files were missing at the cut-off. */
function lateness(next: Batch, previous: Partial<Batch>): Notification[] {
  if (next.stage !== 'LATE' || !next.late || previous.late) return [];
  return [
    {
      notification_id: idOf('delivery', next.client, next.batch_date, next.late.cut_off),
      kind: 'delivery',
      status: 'FAILURE',
      client: next.client,
      batch_date: next.batch_date,
      stage: next.stage,
      msg: `late: ${next.late.missing.join(', ')} missing at the cut-off ${next.late.cut_off}`,
    },
  ];
}

function refusedKey(refused: RejectedKey, previous: Record<string, unknown> | undefined): Notification[] {
  // The same name refused again is a new upload: its `at` differs. A replay of one refusal has the same `at`.
  if (previous?.at === refused.at) return [];
  return [
    {
      notification_id: idOf('key', refused.client, refused.file_name, refused.at),
      kind: 'file',
      status: 'FAILURE',
      client: refused.client,
      file: refused.file_name,
      msg: `object key refused: ${refused.reason}`,
    },
  ];
}

/** A file whose latest upload reached PERSISTED or REJECTED with this change (a new upload has a new `at`). */
function settledFiles(next: Batch, previous: Partial<Batch>): Notification[] {
  return FILE_TYPES.flatMap((type) => {
    const file = next.files[type];
    if (!file || !(file.status in SETTLED_FILE)) return [];
    const before = previous.files?.[type];
    if (before && before.status === file.status && before.at === file.at && before.key === file.key) return [];
    const status = SETTLED_FILE[file.status as keyof typeof SETTLED_FILE];
    return [
      {
        notification_id: idOf('file', next.client, next.batch_date, type, file.key, file.status, file.at),
        kind: 'file' as const,
        status,
        client: next.client,
        batch_date: next.batch_date,
        file: fileName(file.key),
        msg: fileMessage(file),
      },
    ];
  });
}

function fileMessage(file: FileDetail): string {
  if (file.status === 'PERSISTED') return `${plural(file.rows, 'row')} loaded${file.rejected_rows ? `, ${plural(file.rejected_rows, 'row')} rejected` : ''}`;
  const first = file.errors[0];
  const where = first ? `; first at ${errorPlace(first)}` : '';
  return `rejected: ${plural(file.error_count ?? file.errors.length, 'problem')}${where}`;
}

/**
 * The batch reaching an outcome: a stage it was not in, or the same stage in a new generation. The id holds the
 * item's `updated_at`, so a replay repeats it while a second arrival at the outcome (re-opened, refused again) is new.
 */
function outcome(next: Batch, previous: Partial<Batch>): Notification[] {
  if (!(next.stage in OUTCOMES)) return [];
  if (previous.stage === next.stage && previous.generation === next.generation) return [];
  const status = OUTCOMES[next.stage as keyof typeof OUTCOMES];
  return [
    {
      notification_id: idOf('batch', next.client, next.batch_date, next.generation, next.stage, next.updated_at),
      kind: 'batch',
      status,
      client: next.client,
      batch_date: next.batch_date,
      stage: next.stage,
      generation: next.generation,
      msg: batchMessage(next),
    },
  ];
}

function batchMessage(batch: Batch): string {
  if (batch.stage === 'COMPLETE') return `batch complete: ${plural(batch.events_published ?? 0, 'event')} published`;
  if (batch.stage === 'REJECTED') return `batch rejected: ${FILE_TYPES.filter((t) => batch.files[t]?.status === 'REJECTED').join(', ')} refused`;
  // A transformer's reason is PostgreSQL's message, which may quote a value: name the steps only.
  const failed = Object.entries(batch.transformers).filter(([, t]) => t.status === 'FAILED' && t.generation === batch.generation);
  return `batch failed${failed.length ? `: ${failed.map(([name]) => name).join(', ')} FAILED` : ''}`;
}
