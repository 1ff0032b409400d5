import type pg from 'pg';
import type { Batch } from '@dataharvest/events/batch';
import { PortfolioEvent, portfolioEventId } from '@dataharvest/events/portfolio-event';
import { isoBatchDate } from '@dataharvest/shared/stream-handler';
import { planForSlices } from '@dataharvest/shared/transformer';
import { MAX_RECORDS } from './publish';

const money = (column: string) => `${column}::numeric(17,2)::text`;

/**
 * One row per linked portfolio with every transformer's figures (the client's tax figures on each of its portfolios);
 * money leaves PostgreSQL as two-place text. No COALESCE on the figures: a missing result fails the contract check
 * below instead of going out as zero.
 */
const QUERY = `
  SELECT l.portfolio_reference, l.client_reference, l.account_number,
         ${money('d.deposits_total')} AS deposits_total, ${money('d.running_total')} AS deposits_running_total,
         t.transaction_count, ${money('t.net_amount')} AS net_amount, COALESCE(k.totals, '{}') AS totals_by_keyword,
         ${money('x.tax_free_allowance')} AS tax_free_allowance, ${money('x.taxes_paid')} AS taxes_paid,
         ${money('x.tax_transactions_total')} AS tax_transactions_total, ${money('x.allowance_remaining')} AS allowance_remaining,
         x.tax_mismatch
  FROM portfolio_links l
  LEFT JOIN portfolio_deposits d ON d.client = l.client AND d.batch_date = l.batch_date AND d.portfolio_reference = l.portfolio_reference
  LEFT JOIN portfolio_transaction_totals t ON t.client = l.client AND t.batch_date = l.batch_date AND t.portfolio_reference = l.portfolio_reference
  LEFT JOIN (SELECT account_number, jsonb_object_agg(keyword, ${money('amount')}) AS totals FROM transaction_keyword_totals
             WHERE client = $1 AND batch_date = $2 GROUP BY account_number) k ON k.account_number = l.account_number
  LEFT JOIN client_taxes x ON x.client = l.client AND x.batch_date = l.batch_date AND x.client_reference = l.client_reference
  WHERE l.client = $1 AND l.batch_date = $2
  ORDER BY l.portfolio_reference`;

/**
 * The batch's events, chunk by chunk through a cursor in the caller's transaction, so memory holds one chunk however
 * many portfolios the batch has; each is checked against the published contract; version = generation, and the
 * event_id follows from the batch, generation and portfolio alone, so a retried publish repeats the same ids.
 */
export async function* portfolioEvents(db: pg.ClientBase, batch: Batch): AsyncGenerator<PortfolioEvent[]> {
  await planForSlices(db);
  await db.query(`DECLARE portfolio_events NO SCROLL CURSOR FOR ${QUERY}`, [batch.client, isoBatchDate(batch)]);
  const publishedAt = new Date().toISOString();
  const identity = { type: 'portfolio.batch.v1', version: batch.generation, client: batch.client, batch_date: batch.batch_date } as const;
  for (;;) {
    // One PutRecords call's worth at a time.
    const { rows } = await db.query(`FETCH ${MAX_RECORDS} FROM portfolio_events`);
    if (!rows.length) return;
    yield rows.map((row: Record<string, unknown>) =>
      PortfolioEvent.parse({
        event_id: portfolioEventId({ ...identity, portfolio_reference: String(row.portfolio_reference) }),
        ...identity,
        published_at: publishedAt,
        ...row,
      }),
    );
  }
}
