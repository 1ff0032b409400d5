import type pg from 'pg';

/** What identifies one person in the data: their reference, and per bank client their portfolios and own accounts. */
export interface Person {
  reference: string;
  holdings: Holding[];
  /** First and last names as the clients files gave them: redacted from reports. */
  names: string[];
}

export interface Holding {
  client: string;
  portfolios: string[];
  /** Accounts held through the person's portfolios only: an account another person's portfolio holds stays. */
  accounts: string[];
}

const UUID_PATTERN = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/**
 * A rejected row's raw bytes as text to search: ASCII as it is, any other byte (a NUL, UTF-8 beyond ASCII) as an octal
 * escape. The identifiers looked for (UUIDs, digits) are ASCII, and no byte can make the conversion fail.
 */
export const RAW_TEXT = (column: string) => `encode(${column}, 'escape')`;
const hashed = (value: string) => `encode(sha256(convert_to($1 || ${value}, 'UTF8')), 'hex') = $2`;

/**
 * The reference whose salted hash the request carries, looked for where it can be: the clients and portfolios files,
 * and the raw text of rejected rows. Undefined when no table holds it.
 */
export async function referenceOf(db: pg.ClientBase, salt: string, hash: string): Promise<string | undefined> {
  const { rows } = await db.query<{ ref: string }>(
    `SELECT ref FROM (
       (SELECT client_reference::text AS ref FROM clients WHERE ${hashed('client_reference::text')} LIMIT 1)
       UNION ALL
       (SELECT client_reference::text FROM portfolios WHERE ${hashed('client_reference::text')} LIMIT 1)
       UNION ALL
       (SELECT lower(m[1]) FROM rejects, regexp_matches(${RAW_TEXT('raw')}, '(${UUID_PATTERN})', 'g') m WHERE ${hashed('lower(m[1])')} LIMIT 1)
     ) found LIMIT 1`,
    [salt, hash],
  );
  return rows[0]?.ref;
}

/** Everything the tables link to the reference, in every batch of every bank client. */
export async function personOf(db: pg.ClientBase, reference: string): Promise<Person> {
  const { rows } = await db.query<Holding>(
    `WITH mine AS (
       SELECT p.client, p.portfolio_reference::text AS portfolio, p.account_number,
              NOT EXISTS (SELECT 1 FROM portfolios o WHERE o.client = p.client AND o.account_number = p.account_number AND o.client_reference <> $1::uuid) AS alone
       FROM portfolios p WHERE p.client_reference = $1::uuid)
     SELECT client, array_agg(DISTINCT portfolio) AS portfolios, coalesce(array_agg(DISTINCT account_number) FILTER (WHERE alone), '{}') AS accounts
     FROM mine GROUP BY client
     UNION ALL
     SELECT DISTINCT c.client, '{}'::text[], '{}'::text[] FROM clients c
     WHERE c.client_reference = $1::uuid AND NOT EXISTS (SELECT 1 FROM portfolios p WHERE p.client = c.client AND p.client_reference = $1::uuid)`,
    [reference],
  );
  const names = await db.query<{ name: string }>(`SELECT DISTINCT name FROM clients, unnest(ARRAY[first_name, last_name]) AS name WHERE client_reference = $1::uuid AND length(name) > 1`, [reference]);
  return { reference, holdings: rows, names: names.rows.map((r) => r.name) };
}
