import { z } from 'zod';

/** Money leaves the system as a decimal string with exactly two places, never a float. */
export const Money = z.string().regex(/^-?\d+\.\d{2}$/);

/** What the catapult publishes to the output Kinesis stream: one event per portfolio and batch. */
export const PortfolioEvent = z.object({
  type: z.literal('portfolio.batch.v1'),
  version: z.number().int().positive(),
  client: z.string(),
  batch_date: z.string().regex(/^\d{8}$/),
  portfolio_reference: z.uuid(),
  client_reference: z.uuid(),
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
