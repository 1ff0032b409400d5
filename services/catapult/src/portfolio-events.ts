import type pg from 'pg';
import { type Batch, type Contribution, eventVersion } from '@dataharvest/events/batch';
import { type ComposedEvent, composedEvent, type FieldType, portfolioEventId } from '@dataharvest/events/portfolio-event';
import { isoBatchDate } from '@dataharvest/shared/stream-handler';
import { planForSlices } from '@dataharvest/shared/transformer';
import { MAX_RECORDS } from '@dataharvest/shared/kinesis';

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
  return [
    `SELECT ${['l.portfolio_reference', 'l.client_reference', 'l.account_number', ...columns].join(', ')}`,
    'FROM portfolio_links l',
    ...joins,
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
  const publishedAt = new Date().toISOString();
  const identity = { type: 'portfolio.batch.v1', version: eventVersion(batch), client: batch.client, batch_date: batch.batch_date } as const;
  for (;;) {
    // One PutRecords call's worth at a time.
    const { rows } = await db.query(`FETCH ${MAX_RECORDS} FROM portfolio_events`);
    if (!rows.length) return;
    yield rows.map((row: Record<string, unknown>) =>
      schema.parse({ event_id: portfolioEventId({ ...identity, portfolio_reference: String(row.portfolio_reference) }), ...identity, published_at: publishedAt, ...row }),
    );
  }
}
