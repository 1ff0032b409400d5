import type pg from 'pg';
import { type Batch, type Contribution, eventVersion, FILE_TYPES, type FileType } from '@dataharvest/events/batch';
import { type FileLineage, type Lineage, lineRanges } from '@dataharvest/events/lineage';
import { type ComposedEvent, composedEvent, type FieldType, portfolioEventId } from '@dataharvest/events/portfolio-event';
import { isoBatchDate } from '@dataharvest/shared/stream-handler';
import { planForSlices } from '@dataharvest/shared/transformer';
import { MAX_RECORDS } from '@dataharvest/shared/kinesis';

/** The business key a portfolio's rows of each file are found by. */
const LINE_KEY: Record<FileType, string> = { accounts: 'account_number', clients: 'client_reference', portfolios: 'portfolio_reference', transactions: 'account_number' };
/** Result columns of the portfolio's file lines (no field is named so: identifiers are lower-case). */
const LINES_COLUMN = 'Lines:';

/** How a declared field leaves PostgreSQL: money as two-place text, never a float. */
const CAST: Record<FieldType, (column: string) => string> = {
  money: (c) => `${c}::numeric(17,2)::text`,
  integer: (c) => `${c}::int`,
  boolean: (c) => `${c}::boolean`,
  text: (c) => `${c}::text`,
  'money-by-key': (c) => `${c}::jsonb`,
};

/**
 * One row per linked portfolio with the fields every contribution declares, each joined from its transformer's view
 * (identifiers are checked by the registry's schema, and quoted). No COALESCE: a missing result fails the contract
 * check instead of going out as zero.
 */
export function eventQuery(contributions: readonly Contribution[]): string {
  const columns = contributions.flatMap((c, i) => Object.entries(c.fields).map(([field, type]) => `${CAST[type](`c${i}."${field}"`)} AS "${field}"`));
  const joins = contributions.map((c, i) => `LEFT JOIN "${c.view}" c${i} ON c${i}.client = l.client AND c${i}.batch_date = l.batch_date AND c${i}.portfolio_reference = l.portfolio_reference`);
  const lines = FILE_TYPES.map((type) => `${type}_lines.lines AS "${LINES_COLUMN}${type}"`);
  const lineJoins = FILE_TYPES.map((type) => `LEFT JOIN ${type}_lines ON ${type}_lines.key = l.${LINE_KEY[type]}`);
  return [
    // Each file's lines per business key, aggregated once for the batch (a hash join each, not a lookup per portfolio).
    `WITH ${FILE_TYPES.map(
      (type) => `${type}_lines AS (SELECT ${LINE_KEY[type]} AS key, array_agg(line ORDER BY line) AS lines FROM ${type} WHERE client = $1 AND batch_date = $2 AND line IS NOT NULL GROUP BY 1)`,
    ).join(',\n  ')}`,
    `SELECT ${['l.portfolio_reference', 'l.client_reference', 'l.account_number', ...columns, ...lines].join(', ')}`,
    'FROM portfolio_links l',
    ...joins,
    ...lineJoins,
    'WHERE l.client = $1 AND l.batch_date = $2',
    'ORDER BY l.portfolio_reference',
  ].join('\n');
}

/**
 * The batch's events, composed from the contributions of the transformers it required, chunk by chunk through a
 * cursor in the caller's transaction, so memory holds one chunk however many portfolios the batch has; each is
 * checked against the core contract plus the declared fields. The event_id follows from the batch, its event version
 * and the portfolio alone, so a retried publish repeats the same ids.
 */
export async function* portfolioEvents(db: pg.ClientBase, batch: Batch, contributions: readonly Contribution[]): AsyncGenerator<ComposedEvent[]> {
  const schema = composedEvent(Object.assign({}, ...contributions.map((c) => c.fields)));
  await planForSlices(db);
  await db.query(`DECLARE portfolio_events NO SCROLL CURSOR FOR ${eventQuery(contributions)}`, [batch.client, isoBatchDate(batch)]);
  const identity = { type: 'portfolio.batch.v1', version: eventVersion(batch), client: batch.client, batch_date: batch.batch_date } as const;
  const published_at = versionTime(batch);
  const lineage = batchLineage(batch);
  for (;;) {
    // One PutRecords call's worth at a time.
    const { rows } = await db.query(`FETCH ${MAX_RECORDS} FROM portfolio_events`);
    if (!rows.length) return;
    yield rows.map((row: Record<string, unknown>) => {
      const { lines, fields } = splitLines(row);
      const files = Object.fromEntries(Object.entries(lineage.files).map(([type, file]) => [type, { ...file, ...lineRanges(lines[type as FileType] ?? []) }]));
      return schema.parse({
        event_id: portfolioEventId({ ...identity, portfolio_reference: String(row.portfolio_reference) }),
        ...identity,
        published_at,
        ...fields,
        lineage: { ...lineage, files },
      });
    });
  }
}

/**
 * The time the batch recorded for this version: when it last entered TRANSFORMED, its figures complete. Not the clock
 * at publishing, so a re-run of the version publishes the same bytes (events/src/portfolio-event.ts).
 */
export function versionTime(batch: Pick<Batch, 'stage_history' | 'updated_at'>): string {
  return batch.stage_history?.findLast((s) => s.stage === 'TRANSFORMED')?.at ?? batch.updated_at;
}

/** What every event of the batch shares in its lineage: the files as uploaded, the steps' code digests, the rule set. */
export function batchLineage(batch: Batch): Omit<Lineage, 'files'> & { files: Record<string, Omit<FileLineage, 'lines' | 'lines_complete'>> } {
  const files = Object.fromEntries(
    FILE_TYPES.flatMap((type) => {
      const f = batch.files[type];
      if (!f) return [];
      const erasures = f.erasures?.length ? { erasures: f.erasures.map(({ at, sha256 }) => ({ at, sha256 })) } : {};
      return [[type, { key: f.key, ...(f.sha256 ? { sha256: f.sha256 } : {}), bytes: f.bytes, ...(f.uploaded_at ? { uploaded_at: f.uploaded_at } : {}), ...erasures }]];
    }),
  );
  const steps = ['relationship', ...(batch.required_transformers ?? [])].sort();
  const transformers = Object.fromEntries(steps.flatMap((name) => (batch.transformers[name]?.digest ? [[name, batch.transformers[name]!.digest!]] : [])));
  return { generation: batch.generation, files, transformers, ...(batch.quality?.rules_digest ? { quality_rules: batch.quality.rules_digest } : {}) };
}

/** The row's line arrays, apart from the event's fields. */
function splitLines(row: Record<string, unknown>): { lines: Partial<Record<FileType, number[]>>; fields: Record<string, unknown> } {
  const lines: Partial<Record<FileType, number[]>> = {};
  const fields: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (column.startsWith(LINES_COLUMN)) lines[column.slice(LINES_COLUMN.length) as FileType] = (value as number[] | null) ?? [];
    else fields[column] = value;
  }
  return { lines, fields };
}
