import { z } from 'zod';

/** Money leaves the system as a decimal string with exactly two places, never a float. */
export const Money = z.string().regex(/^-?\d+\.\d{2}$/);

/** Any 8-4-4-4-12 hex reference, as the files and PostgreSQL accept it: client systems do not all mint RFC 9562 UUIDs. */
const Reference = z.guid();

/** What the catapult publishes to the output Kinesis stream: one event per portfolio and batch. */
export const PortfolioEvent = z.object({
  type: z.literal('portfolio.batch.v1'),
  version: z.number().int().positive(),
  client: z.string(),
  batch_date: z.string().regex(/^\d{8}$/),
  portfolio_reference: Reference,
  client_reference: Reference,
  account_number: z.string(),
  deposits_total: Money,
  deposits_running_total: Money,
  transaction_count: z.number().int().nonnegative(),
  net_amount: Money,
  totals_by_keyword: z.record(z.string(), Money),
  tax_free_allowance: Money,
  taxes_paid: Money,
  tax_transactions_total: Money,
  allowance_remaining: Money,
  tax_mismatch: z.boolean(),
  published_at: z.string(),
});
export type PortfolioEvent = z.infer<typeof PortfolioEvent>;
