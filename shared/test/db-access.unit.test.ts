import { AccessError, accessOf, grantsOn, INGEST, TRANSFORMER, transformerLoginSql } from '../src/db/access';

describe('database access, from shared/database-access.json', () => {
  it("grants the transformers' role what they read, and nothing of the relationship's or a transformer's own tables", () => {
    const grants = grantsOn(['portfolio_links', 'data_quality_issues', 'batch_volumes', 'portfolio_transaction_totals']).filter((g) => g.login === TRANSFORMER);
    expect(grants).toEqual([{ table: 'portfolio_links', login: TRANSFORMER, privilege: 'SELECT' }]);
  });

  it('matches a * in a name as any characters, and * alone every table', () => {
    const on = (table: string) => grantsOn([table]).map((g) => `${g.login}:${g.privilege}`);
    expect(on('tax_event_fields')).toEqual(['dataharvest_privacy:SELECT', 'dataharvest_privacy:DELETE', 'dataharvest_catapult:SELECT']);
    expect(on('anything_new')).toEqual(['dataharvest_privacy:SELECT', 'dataharvest_privacy:DELETE']);
  });

  it('runs the ingest services as the ingest role, a transformer’s DDL as its own login (a rotated clone’s too)', () => {
    expect(accessOf('dataharvest_loader')).toEqual({ login: 'dataharvest_loader', session: INGEST, ddl: INGEST });
    expect(accessOf('dataharvest_tax_clone')).toEqual({ login: 'dataharvest_tax', ddl: 'dataharvest_tax' });
    expect(accessOf('dataharvest_fx-exposure')).toEqual({ login: 'dataharvest_fx-exposure', ddl: 'dataharvest_fx-exposure' });
    expect(accessOf('dataharvest')).toBeUndefined();
    expect(accessOf('dataharvest_migrator')).toBeUndefined();
  });

  it("makes a transformer's login only for its own name: never a service's login or a shared role", () => {
    const quote = { identifier: (s: string) => `"${s}"`, literal: (s: string) => `'${s}'` };
    const login =
      (service: string, username = `dataharvest_${service}`) =>
      () =>
        transformerLoginSql(quote, { service, username, password: 'p' });
    expect(login('fx-exposure')()).toContain(`GRANT "${TRANSFORMER}" TO "dataharvest_fx-exposure" WITH INHERIT TRUE, SET FALSE`);
    for (const refused of [login('persistence'), login('migrator'), login('transformer'), login('fx-exposure', 'dataharvest_persistence')]) expect(refused).toThrow(AccessError);
  });
});
