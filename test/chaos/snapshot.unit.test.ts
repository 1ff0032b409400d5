import { differences, firstDifference, normalise, type Snapshot } from './snapshot';

const CLIENT = 'CHAOS_X';
const base = (): Snapshot => ({
  tables: { accounts: { rows: 3, md5: 'aaaaaaaa' }, client_taxes: { rows: 2, md5: 'bbbbbbbb' } },
  items: [normalise({ pk: `CLIENT#${CLIENT}`, sk: 'BATCH#20200130', stage: 'COMPLETE', generation: 1 }, CLIENT)],
  events: [{ portfolio_reference: 'p1', version: 1 }],
  gaveUp: [],
});

describe('the chaos suite’s comparison', () => {
  it('leaves out times, durations, upload ids and the client’s name, in either case', () => {
    const item = {
      sk: 'BATCH#20200130',
      files: { transactions: { key: `incoming/${CLIENT}/transactions_20200130.csv`, etag: '"e1"', at: 'now', duration_ms: 5, rows: 4 } },
      stage_history: [{ stage: 'PERSISTED', at: 'then' }],
      table: `transactions_${CLIENT.toLowerCase()}`,
      created_at: 'then',
      upload_id: 'u1',
    };
    expect(normalise(item, CLIENT)).toEqual({
      files: { transactions: { key: 'incoming/<client>/transactions_20200130.csv', rows: 4 } },
      sk: 'BATCH#20200130',
      stage_history: [{ stage: 'PERSISTED' }],
      table: 'transactions_<client>',
    });
    expect(normalise({ generation: 2, version: 2, rows: 1 }, CLIENT, new Set(['generation', 'version']))).toEqual({ rows: 1 });
  });

  it('finds no difference between equal snapshots, and each kind of difference otherwise, naming its first differing field', () => {
    expect(differences(base(), base())).toEqual([]);
    const changed = base();
    changed.tables.accounts = { rows: 4, md5: 'cccccccc' };
    delete changed.tables.client_taxes;
    changed.items = [normalise({ pk: `CLIENT#${CLIENT}`, sk: 'BATCH#20200130', stage: 'COMPLETE', generation: 2 }, CLIENT)];
    changed.events = [
      { portfolio_reference: 'p1', version: 2 },
      { portfolio_reference: 'p2', version: 1 },
    ];
    changed.gaveUp = ['FAILURE#20200130#tax'];
    const found = differences(base(), changed);
    expect(found).toEqual([
      'table accounts: 3 rows (aaaaaaaa) in the clean run, 4 rows (cccccccc) here',
      'table client_taxes: 2 rows (bbbbbbbb) in the clean run, absent here',
      'metastore BATCH#20200130: generation 1 in the clean run, 2 here',
      'events: 1 in the clean run, 2 here',
      'event p1: version 1 in the clean run, 2 here',
      'event p2: only here',
      'gave up: FAILURE#20200130#tax',
    ]);
  });
});

it('numbers a second event of one portfolio, compared with its like', () => {
  const twice = base();
  twice.events = [
    { portfolio_reference: 'p1', version: 1 },
    { portfolio_reference: 'p1', version: 2 },
  ];
  expect(differences(base(), twice)).toEqual(['events: 1 in the clean run, 2 here', 'event p1 #2: only here']);
});

describe('firstDifference', () => {
  it('names the path of the first differing value, nested in objects and arrays', () => {
    expect(firstDifference({ a: { b: [1, { c: 'x' }] } }, { a: { b: [1, { c: 'y' }] } })).toBe('a.b.1.c "x" in the clean run, "y" here');
    expect(firstDifference({ a: 1 }, { a: 1, b: 2 })).toBe('b absent in the clean run, 2 here');
    expect(firstDifference([1, 2], [1, 2])).toBeUndefined();
  });
});
