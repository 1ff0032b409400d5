import fc from 'fast-check';
import type { Rows } from '../../../test/support/chain';
import { FRIDA, FRITZ, SAMPLE_DATE, sampleRows, startChain, type Chain, type StreamHandler } from '../../../test/support/chain';
import { asOf, DIMENSIONS, type RanBatch, storedAsOf, storedVersions, versions } from '../../../test/support/history';
import { createTransformer, runStatements, schemaOf } from '@dataharvest/shared/transformer';
import { until } from '../../../test/support/until';
import { definition } from '../src/handler';

/** A day of March 2024 as YYYYMMDD. */
const march = (day: number) => `202403${String(day).padStart(2, '0')}`;
const CLIENTS = ['c1111111-0000-4000-8000-000000000001', 'c1111111-0000-4000-8000-000000000002', 'c1111111-0000-4000-8000-000000000003'];
const PORTFOLIOS = ['b2222222-0000-4000-8000-000000000001', 'b2222222-0000-4000-8000-000000000002', 'b2222222-0000-4000-8000-000000000003'];
const ACCOUNTS = ['1001', '1002', '1003', '1004'];

/**
 * A batch the relationship step relates: of the portfolios drawn, those whose client is present; every account they
 * hold and only those; every client holding one. Names, allowances, agents and currencies from two values each, so
 * that consecutive batches often agree and sometimes not.
 */
const batchRows = fc
  .record({
    clients: fc.tuple(
      ...CLIENTS.map(() =>
        fc.option(fc.record({ first_name: fc.constantFrom('Anna', 'Bert'), last_name: fc.constantFrom('Alt', 'Neu'), tax_free_allowance: fc.constantFrom('0', '801') }), { freq: 3 }),
      ),
    ),
    portfolios: fc.tuple(
      ...PORTFOLIOS.map(() => fc.option(fc.record({ client: fc.nat(CLIENTS.length - 1), account: fc.nat(ACCOUNTS.length - 1), agent_code: fc.constantFrom('EREZBT', 'SFOJFK') }), { freq: 3 })),
    ),
    currencies: fc.tuple(...ACCOUNTS.map(() => fc.constantFrom('EUR', 'USD'))),
  })
  .map(({ clients, portfolios, currencies }): Rows => {
    const held = portfolios.flatMap((p, i) => (p && clients[p.client] ? [{ ...p, portfolio_reference: PORTFOLIOS[i]! }] : []));
    const accounts = [...new Set(held.map((p) => p.account))].sort();
    let id = 1;
    return {
      clients: clients.flatMap((c, i) => (c && held.some((p) => p.client === i) ? [{ record_id: String(id++), client_reference: CLIENTS[i]!, ...c }] : [])),
      portfolios: held.map((p) => ({
        record_id: String(id++),
        account_number: ACCOUNTS[p.account]!,
        portfolio_reference: p.portfolio_reference,
        client_reference: CLIENTS[p.client]!,
        agent_code: p.agent_code,
      })),
      accounts: accounts.map((a) => ({ record_id: String(id++), account_number: ACCOUNTS[a]!, cash_balance: '1.00', currency: currencies[a]!, taxes_paid: '0.00' })),
      transactions: [],
    };
  });

describe('history: type 2 dimensions of clients, accounts and portfolios', () => {
  let chain: Chain;
  let history: StreamHandler;
  const query = (sql: string, params: unknown[]) => chain.query(sql, params);
  /** Uploads (or re-uploads) a batch, relates it and runs the transformer; answers what it ran. */
  const run = async (client: string, date: string, rows: Rows): Promise<RanBatch> => {
    await chain.related(client, date, rows);
    expect(await chain.invoke(history, client, date)).toEqual({ batchItemFailures: [] });
    const batch = await chain.batch(client, date);
    expect(batch.transformers.history).toMatchObject({ status: 'DONE', generation: batch.generation });
    return { date, generation: batch.generation, rows };
  };
  const expectHistory = async (client: string, ran: readonly RanBatch[]) => {
    for (const d of DIMENSIONS) expect([d, await storedVersions(query, d, client)]).toEqual([d, versions(d, ran)]);
  };

  beforeAll(async () => {
    chain = await startChain();
    history = createTransformer(definition, chain.deps);
  });
  afterAll(() => chain?.stop());

  it('gives each key of the sample batch one current version, recorded by generation 1, and nothing as of the day before', async () => {
    await run('SAMPLE', SAMPLE_DATE, sampleRows());
    expect(await storedVersions(query, 'clients', 'SAMPLE')).toEqual([
      { client_reference: FRIDA.client, first_name: 'Frida', last_name: 'Müller', tax_free_allowance: '801.00', valid_from: '2020-01-30', valid_to: null, is_current: true, generation: 1 },
      { client_reference: FRITZ.client, first_name: 'Fritz', last_name: 'Maier', tax_free_allowance: '0.00', valid_from: '2020-01-30', valid_to: null, is_current: true, generation: 1 },
    ]);
    expect(await storedVersions(query, 'accounts', 'SAMPLE')).toEqual([
      {
        account_number: FRIDA.account,
        currency: 'EUR',
        portfolio_reference: FRIDA.portfolio,
        client_reference: FRIDA.client,
        valid_from: '2020-01-30',
        valid_to: null,
        is_current: true,
        generation: 1,
      },
      {
        account_number: FRITZ.account,
        currency: 'EUR',
        portfolio_reference: FRITZ.portfolio,
        client_reference: FRITZ.client,
        valid_from: '2020-01-30',
        valid_to: null,
        is_current: true,
        generation: 1,
      },
    ]);
    expect(await storedAsOf(query, 'portfolios', 'SAMPLE', '2020-01-29')).toEqual([]);
    expect((await storedAsOf(query, 'portfolios', 'SAMPLE', '2020-06-01')).length).toBe(2);
  });

  it('adds nothing for an unchanged batch and a version for a rename', async () => {
    const rows = sampleRows();
    const renamed: Rows = { ...rows, clients: rows.clients.map((c) => (c.first_name === 'Fritz' ? { ...c, last_name: 'Meyer' } : c)) };
    const ran = [await run('RENAME', '20200130', rows), await run('RENAME', '20200131', rows), await run('RENAME', '20200203', renamed)];
    await expectHistory('RENAME', ran);
    const fritz = await query(`SELECT last_name, valid_from::text, valid_to::text FROM clients_history WHERE client = 'RENAME' AND client_reference = $1 ORDER BY valid_from`, [FRITZ.client]);
    expect(fritz).toEqual([
      { last_name: 'Maier', valid_from: '2020-01-30', valid_to: '2020-02-03' },
      { last_name: 'Meyer', valid_from: '2020-02-03', valid_to: null },
    ]);
    expect(await storedAsOf(query, 'clients', 'RENAME', '2020-02-02')).toContainEqual(expect.objectContaining({ last_name: 'Maier' }));
  });

  it('closes the version of a key missing from a batch, and opens a new one when it returns unchanged', async () => {
    const rows = sampleRows();
    const withoutFritz: Rows = {
      clients: rows.clients.filter((c) => c.client_reference !== FRITZ.client),
      portfolios: rows.portfolios.filter((p) => p.client_reference !== FRITZ.client),
      accounts: rows.accounts.filter((a) => a.account_number !== FRITZ.account),
      transactions: rows.transactions.filter((t) => t.account_number !== FRITZ.account),
    };
    const ran = [await run('GAP', '20200130', rows), await run('GAP', '20200131', withoutFritz), await run('GAP', '20200203', rows)];
    await expectHistory('GAP', ran);
    // The first batch uploaded again: its run computes every version afresh, the gap inside what it reads.
    ran[0] = await run('GAP', '20200130', rows);
    expect(ran[0].generation).toBeGreaterThan(1);
    await expectHistory('GAP', ran);
    const fritz = await query(`SELECT valid_from::text, valid_to::text, is_current FROM portfolios_history WHERE client = 'GAP' AND portfolio_reference = $1 ORDER BY valid_from`, [FRITZ.portfolio]);
    expect(fritz).toEqual([
      { valid_from: '2020-01-30', valid_to: '2020-01-31', is_current: false },
      { valid_from: '2020-02-03', valid_to: null, is_current: true },
    ]);
    expect(await storedAsOf(query, 'portfolios', 'GAP', '2020-02-01')).toEqual([expect.objectContaining({ portfolio_reference: FRIDA.portfolio })]);
  });

  it('runs two batches of one client one after the other when they come at once: neither misses the other', async () => {
    const rows = sampleRows();
    const renamed: Rows = { ...rows, clients: rows.clients.map((c) => ({ ...c, first_name: `${c.first_name}a` })) };
    const batches = [await chain.related('AT_ONCE', '20200130', rows), await chain.related('AT_ONCE', '20200131', renamed)];
    await chain.deps.database.ensureSchema(schemaOf(definition));
    // The first run has rewritten the history and not committed when the second starts: the second must wait for it.
    const [first, second] = [await chain.db.connect(), await chain.db.connect()];
    try {
      await first.query('BEGIN');
      await runStatements(first, 'history', definition.statements, batches[0]!);
      await second.query('BEGIN');
      let settled = false;
      const secondRun = runStatements(second, 'history', definition.statements, batches[1]!).finally(() => (settled = true));
      await until('the second run to wait or finish', async () => {
        const { rows: waiting } = await first.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted');
        return settled || waiting[0]!.n > 0 ? true : undefined;
      });
      await first.query('COMMIT');
      await secondRun;
      await second.query('COMMIT');
    } finally {
      first.release();
      second.release();
    }
    await expectHistory('AT_ONCE', [
      { date: '20200130', generation: 1, rows },
      { date: '20200131', generation: 1, rows: renamed },
    ]);
  });

  it('matches the independent computation after every upload, in any order, corrections included, and answers as of every day', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 14 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.record({ pick: fc.nat(), rows: batchRows }), { minLength: 1, maxLength: 7 }),
        async (days, uploads) => {
          const client = `PROP_${n++}`;
          const ran = new Map<string, RanBatch>();
          for (const { pick, rows } of uploads) {
            const date = march(days[pick % days.length]!);
            ran.set(date, await run(client, date, rows));
            await expectHistory(client, [...ran.values()]);
          }
          for (const iso of ['2024-02-29', ...Array.from({ length: 15 }, (_, i) => `2024-03-${String(i + 1).padStart(2, '0')}`)]) {
            for (const d of DIMENSIONS) expect([d, iso, await storedAsOf(query, d, client, iso)]).toEqual([d, iso, asOf(d, [...ran.values()], iso)]);
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 300_000);
});
