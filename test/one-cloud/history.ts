import { PutObjectCommand } from '@aws-sdk/client-s3';
import { FILE_TYPES, type FileType, isoDate } from '@dataharvest/events/batch';
import pg from 'pg';
import { type Connection, connectCloud, ingestBucket } from '../../local/src/cli/connection';
import type { LocalCloud } from '../../local/src/cloud/index';
import { sharedCloud } from '../support/shared-cloud';
import type { Rows } from '../support/chain';
import { asOf, DIMENSIONS, type RanBatch, storedAsOf, storedVersions, versions } from '../support/history';
import { until } from '../support/until';

const CLIENT = 'HISTORY_CO';
const ANNA = 'a0000000-0000-4000-8000-00000000000a';
const BERT = 'b0000000-0000-4000-8000-00000000000b';
const P = (n: number) => `f0000000-0000-4000-8000-00000000000${n}`;

type Client = { first_name: string; last_name: string; tax_free_allowance: string };
type Holding = { portfolio: string; account: string; client: string; agent_code: string; currency: string };

/** One batch's four files as rows: the clients, and per portfolio its account, holder and agent. */
function batch(clients: Record<string, Client>, holdings: Holding[]): Rows {
  return {
    clients: Object.entries(clients).map(([ref, c], i) => ({ record_id: String(i + 1), client_reference: ref, ...c })),
    portfolios: holdings.map((h, i) => ({ record_id: String(i + 1), account_number: h.account, portfolio_reference: h.portfolio, client_reference: h.client, agent_code: h.agent_code })),
    accounts: holdings.map((h, i) => ({ record_id: String(i + 1), account_number: h.account, cash_balance: '100.00', currency: h.currency, taxes_paid: '0.00' })),
    transactions: holdings.map((h, i) => ({ record_id: String(i + 1), account_number: h.account, transaction_reference: `t${h.account}`, amount: '10.00', keyword: 'DEPOSIT' })),
  };
}

const csv = (rows: Array<Record<string, string>>) => `${[Object.keys(rows[0]!).join(','), ...rows.map((r) => Object.values(r).join(','))].join('\n')}\n`;

const anna = { first_name: 'Anna', last_name: 'Alt', tax_free_allowance: '801.00' };
const bert = { first_name: 'Bert', last_name: 'Berg', tax_free_allowance: '0.00' };
const first: Holding[] = [
  { portfolio: P(1), account: '1001', client: ANNA, agent_code: 'EREZBT', currency: 'EUR' },
  { portfolio: P(2), account: '1002', client: BERT, agent_code: 'SFOJFK', currency: 'EUR' },
  { portfolio: P(3), account: '1003', client: ANNA, agent_code: 'EREZBT', currency: 'USD' },
];
// Account 1003 moves from Anna's portfolio 3 to Bert's new portfolio 4; portfolio 3 holds a new account.
const moved: Holding[] = [first[0]!, first[1]!, { ...first[2]!, account: '1004', currency: 'EUR' }, { portfolio: P(4), account: '1003', client: BERT, agent_code: 'SFOJFK', currency: 'USD' }];
const raised = { ...bert, tax_free_allowance: '100.00' };
const renamed = { ...anna, last_name: 'Neumann' };

/** Five batches over two weeks, as their files say once corrected. */
const BATCHES: Record<string, Rows> = {
  '20240301': batch({ [ANNA]: anna, [BERT]: bert }, first),
  '20240304': batch({ [ANNA]: anna, [BERT]: bert }, first),
  '20240306': batch({ [ANNA]: anna, [BERT]: raised }, moved),
  '20240311': batch({ [ANNA]: renamed, [BERT]: raised }, moved),
  '20240313': batch({ [ANNA]: renamed, [BERT]: raised }, moved),
};
/** The second batch's clients file as corrected: Bert's allowance was raised from that day on, not two days later. */
const CORRECTED_CLIENTS = batch({ [ANNA]: anna, [BERT]: raised }, first).clients;

/**
 * The history transformer on the local cloud: five batches of one client over two weeks (a rename, an account moving
 * between portfolios, the fourth batch arriving after the fifth, the second corrected after the fourth) uploaded one
 * after another. After each, the dimensions must be what an independent computation over the batches' rows gives,
 * and at the end `*_as_of` must answer for every day what the latest batch on or before it said.
 */
describe('history: type 2 dimensions through the pipeline', () => {
  let cloud: LocalCloud;
  let on: Connection;
  let db: pg.Client;
  const query = async (sql: string, params: unknown[]) => (await db.query(sql, params)).rows;
  const uploaded = new Map<string, Rows>();

  /** Uploads files of a batch and waits until the cloud is quiet and every batch uploaded so far is COMPLETE. */
  const upload = async (date: string, types: readonly FileType[], rows: Rows) => {
    const before = (await on.metastore.getBatch(CLIENT, date))?.generation ?? 0;
    for (const type of types) {
      await on.aws.s3.send(new PutObjectCommand({ Bucket: ingestBucket(on.deployment), Key: `incoming/${CLIENT}/${type}_${date}.csv`, Body: csv(rows[type]) }));
    }
    uploaded.set(date, rows);
    await until(`${date} complete`, async () => {
      const b = await on.metastore.getBatch(CLIENT, date);
      return b?.stage === 'COMPLETE' && b.generation > before ? b : undefined;
    });
    await cloud.idle();
    for (const d of uploaded.keys()) await until(`${d} complete`, async () => ((await on.metastore.getBatch(CLIENT, d))?.stage === 'COMPLETE' ? true : undefined));
  };
  /** The batches as the transformer last ran them: their rows now and their current generation. */
  const ran = async (): Promise<RanBatch[]> => Promise.all([...uploaded].map(async ([date, rows]) => ({ date, rows, generation: (await on.metastore.getBatch(CLIENT, date))!.generation })));
  const expectHistory = async () => {
    const batches = await ran();
    for (const d of DIMENSIONS) expect([d, await storedVersions(query, d, CLIENT)]).toEqual([d, versions(d, batches)]);
  };

  beforeAll(async () => {
    cloud = await sharedCloud();
    on = connectCloud(cloud);
    db = new pg.Client({ connectionString: cloud.postgresUrl });
    await db.connect();
  }, 120_000);
  afterAll(async () => {
    await db?.end();
  });

  it('keeps every version right after each batch, the late and the corrected ones included, and answers as of every day', async () => {
    for (const date of ['20240301', '20240304', '20240306', '20240313']) {
      await upload(date, FILE_TYPES, BATCHES[date]!);
      await expectHistory();
    }
    // Bert's allowance was raised on the 6th, as the second batch did not yet say.
    expect(
      await query(`SELECT tax_free_allowance::text, valid_from::text, valid_to::text FROM clients_history WHERE client = $1 AND client_reference = $2 ORDER BY valid_from`, [CLIENT, BERT]),
    ).toEqual([
      { tax_free_allowance: '0.00', valid_from: '2024-03-01', valid_to: '2024-03-06' },
      { tax_free_allowance: '100.00', valid_from: '2024-03-06', valid_to: null },
    ]);

    // The fourth batch arrives after the fifth: Anna's new name dates from it.
    await upload('20240311', FILE_TYPES, BATCHES['20240311']!);
    await expectHistory();
    expect(await query(`SELECT last_name, valid_from::text, valid_to::text, is_current FROM clients_history WHERE client = $1 AND client_reference = $2 ORDER BY valid_from`, [CLIENT, ANNA])).toEqual([
      { last_name: 'Alt', valid_from: '2024-03-01', valid_to: '2024-03-11', is_current: false },
      { last_name: 'Neumann', valid_from: '2024-03-11', valid_to: null, is_current: true },
    ]);

    // The second batch's clients file corrected: Bert's raise moves to the 4th, and the version of the 6th is gone.
    await upload('20240304', ['clients'], { ...BATCHES['20240304']!, clients: CORRECTED_CLIENTS });
    await expectHistory();
    expect(
      await query(`SELECT tax_free_allowance::text, valid_from::text, valid_to::text, generation FROM clients_history WHERE client = $1 AND client_reference = $2 ORDER BY valid_from`, [CLIENT, BERT]),
    ).toEqual([
      { tax_free_allowance: '0.00', valid_from: '2024-03-01', valid_to: '2024-03-04', generation: 1 },
      { tax_free_allowance: '100.00', valid_from: '2024-03-04', valid_to: null, generation: (await on.metastore.getBatch(CLIENT, '20240304'))!.generation },
    ]);
    // Account 1003 moved from Anna's portfolio 3 to Bert's portfolio 4 on the 6th.
    expect(
      await query(
        `SELECT portfolio_reference::text, client_reference::text, valid_from::text, valid_to::text FROM accounts_history WHERE client = $1 AND account_number = '1003' ORDER BY valid_from`,
        [CLIENT],
      ),
    ).toEqual([
      { portfolio_reference: P(3), client_reference: ANNA, valid_from: '2024-03-01', valid_to: '2024-03-06' },
      { portfolio_reference: P(4), client_reference: BERT, valid_from: '2024-03-06', valid_to: null },
    ]);

    const batches = await ran();
    for (let day = Date.parse('2024-02-29'); day <= Date.parse('2024-03-15'); day += 86_400_000) {
      const iso = new Date(day).toISOString().slice(0, 10);
      for (const d of DIMENSIONS) expect([d, iso, await storedAsOf(query, d, CLIENT, iso)]).toEqual([d, iso, asOf(d, batches, iso)]);
    }
    expect(await storedAsOf(query, 'clients', CLIENT, isoDate('20240305'))).toEqual([
      { client_reference: ANNA, ...anna },
      { client_reference: BERT, ...raised },
    ]);
  }, 600_000);
});
