import { accessOf, grantsOn, INGEST, MIGRATOR } from '../src/db/access';

describe('database access, from shared/database-access.json', () => {
  it("grants a transformer what it reads and writes, and nothing of the relationship's own tables", () => {
    const grants = grantsOn(['portfolio_links', 'data_quality_issues', 'batch_volumes', 'portfolio_transaction_totals']).filter((g) => g.login === 'dataharvest_transaction');
    expect(grants).toEqual([
      { table: 'portfolio_links', login: 'dataharvest_transaction', privilege: 'SELECT' },
      ...['SELECT', 'INSERT', 'UPDATE', 'DELETE'].map((privilege) => ({ table: 'portfolio_transaction_totals', login: 'dataharvest_transaction', privilege })),
    ]);
  });

  it('matches a * in a name as any characters, and * alone every table', () => {
    const on = (table: string) => grantsOn([table]).map((g) => `${g.login}:${g.privilege}`);
    expect(on('tax_event_fields')).toEqual(expect.arrayContaining(['dataharvest_catapult:SELECT', 'dataharvest_tax:INSERT', 'dataharvest_privacy:DELETE']));
    expect(on('anything_new')).toEqual(['dataharvest_privacy:SELECT', 'dataharvest_privacy:DELETE']);
  });

  it('runs the ingest services as the ingest role, the others’ DDL as the migrator, a rotated clone as its login', () => {
    expect(accessOf('dataharvest_loader')).toEqual({ login: 'dataharvest_loader', session: INGEST, ddl: INGEST });
    expect(accessOf('dataharvest_tax_clone')).toEqual({ login: 'dataharvest_tax', session: undefined, ddl: MIGRATOR });
    expect(accessOf('dataharvest')).toBeUndefined();
  });
});
