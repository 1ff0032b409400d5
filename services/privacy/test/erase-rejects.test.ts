import { createHash } from 'node:crypto';
import type pg from 'pg';
import { BASE_TABLES_DDL } from '@dataharvest/shared/db/base-tables';
import { applyDdl, newPool } from '@dataharvest/shared/pg';
import { startServices, type Services } from '../../../local/src/cloud/emulators/services';
import { eraseTables } from '../src/erase-tables';
import { referenceOf } from '../src/person';

/**
 * Rejected rows keep their raw bytes, any byte included: erasure still finds a person in them and removes the rows,
 * and no byte (a NUL, broken UTF-8) makes its queries fail.
 */
const REF = '9e40659b-8b9f-4fc4-814b-5a7b5a23b64d';
const SALT = 'salt';

let services: Services;
let db: pg.Pool;
beforeAll(async () => {
  services = await startServices();
  db = newPool({ connectionString: services.postgresUrl, max: 2 });
  const client = await db.connect();
  await applyDdl(client, BASE_TABLES_DDL).finally(() => client.release());
});
afterAll(async () => {
  await db?.end();
  await services?.stop();
});

describe("erasure in lenient loads' rejected rows", () => {
  it('finds the reference in a row of any bytes and deletes the rows holding the person, only those', async () => {
    const row = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const hers = [row('1,Fr', [0], 'ida,M', [0xff, 0xc2], `,${REF.toUpperCase()},801\n`), row(`2,"Zoë",Maier,"${REF}",x\n`)];
    const other = row('3,Fr', [0], 'itz,Maier,f4a0cc2c-d0b4-4f14-b202-c8a5e45e90e7,x\n');
    await db.query("INSERT INTO rejects SELECT 'ERASE_CO', '2020-01-30', 'clients', n, 'r', raw FROM unnest($1::bytea[]) WITH ORDINALITY AS r(raw, n)", [[...hers, other]]);

    const client = await db.connect();
    try {
      const hash = createHash('sha256')
        .update(SALT + REF)
        .digest('hex');
      expect(await referenceOf(client, SALT, hash)).toBe(REF);
      expect(await eraseTables(client, { reference: REF, holdings: [], names: [] })).toEqual({ rejects: 2 });
    } finally {
      client.release();
    }
    expect((await db.query("SELECT raw FROM rejects WHERE client = 'ERASE_CO'")).rows).toEqual([{ raw: other }]);
  });
});
