import { transformerHandler } from '@dataharvest/shared/transformer';

/**
 * Per client: the tax-free allowance, taxes paid on the client's accounts, the total of TAX transactions, what is
 * left of the allowance, and a flag where the taxes paid and the TAX transactions disagree. Tax is withheld only
 * once the allowance is used up, so a client who paid tax has none left.
 */
export const handler = transformerHandler({
  name: 'tax',
  ddl: [
    `CREATE TABLE IF NOT EXISTS client_taxes (client text NOT NULL, batch_date date NOT NULL, client_reference uuid NOT NULL,
       tax_free_allowance numeric(17,2) NOT NULL, taxes_paid numeric(17,2) NOT NULL, tax_transactions_total numeric(17,2) NOT NULL,
       allowance_remaining numeric(17,2) NOT NULL, tax_mismatch boolean NOT NULL, PRIMARY KEY (client, batch_date, client_reference))`,
  ],
  statements: [
    'DELETE FROM client_taxes WHERE client = $1 AND batch_date = $2',
    `INSERT INTO client_taxes
       SELECT c.client, c.batch_date, c.client_reference, c.tax_free_allowance, paid.total, tax.total,
              CASE WHEN paid.total > 0 THEN 0 ELSE c.tax_free_allowance END, paid.total <> -tax.total
       FROM clients c
       CROSS JOIN LATERAL (SELECT COALESCE(SUM(a.taxes_paid), 0) AS total FROM accounts a
                           WHERE a.client = c.client AND a.batch_date = c.batch_date
                             AND a.account_number IN (SELECT l.account_number FROM portfolio_links l
                                                      WHERE l.client = c.client AND l.batch_date = c.batch_date AND l.client_reference = c.client_reference)) paid
       CROSS JOIN LATERAL (SELECT COALESCE(SUM(t.amount), 0) AS total FROM transactions t
                           WHERE t.client = c.client AND t.batch_date = c.batch_date AND t.keyword = 'TAX'
                             AND t.account_number IN (SELECT l.account_number FROM portfolio_links l
                                                      WHERE l.client = c.client AND l.batch_date = c.batch_date AND l.client_reference = c.client_reference)) tax
       WHERE c.client = $1 AND c.batch_date = $2
       ON CONFLICT (client, batch_date, client_reference) DO NOTHING`,
  ],
});
