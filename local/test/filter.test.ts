import fc from 'fast-check';
import { compileFilters, kinesisFilterView } from '../src/cloud/filter';

const matches = (pattern: unknown, record: unknown) => compileFilters([JSON.stringify(pattern)])(record);

describe('compileFilters: the filter rule syntax table of the Lambda docs', () => {
  it.each([
    ['null', { UserID: [null] }, { UserID: null }, { UserID: 'x' }],
    ['empty', { LastName: [''] }, { LastName: '' }, { LastName: 'Doe' }],
    ['equals', { Name: ['Alice'] }, { Name: 'Alice' }, { Name: 'alice' }],
    ['equals (ignore case)', { Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'ALICE' }, { Name: 'Alicia' }],
    ['and', { Location: ['New York'], Day: ['Monday'] }, { Location: 'New York', Day: 'Monday' }, { Location: 'New York', Day: 'Friday' }],
    ['or', { PaymentType: ['Credit', 'Debit'] }, { PaymentType: 'Debit' }, { PaymentType: 'Cash' }],
    ['or across fields ($or)', { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] }, { Location: 'Boston', Day: 'Monday' }, { Location: 'Boston', Day: 'Friday' }],
    ['not (anything-but)', { Weather: [{ 'anything-but': ['Raining'] }] }, { Weather: 'Sunny' }, { Weather: 'Raining' }],
    ['anything-but prefix', { Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'eu-west-1' }, { Region: 'us-east-1' }],
    ['numeric (equals)', { Price: [{ numeric: ['=', 100] }] }, { Price: 100 }, { Price: 101 }],
    ['numeric (range)', { Price: [{ numeric: ['>', 10, '<=', 20] }] }, { Price: 20 }, { Price: 10 }],
    ['exists', { ProductName: [{ exists: true }] }, { ProductName: 'Widget' }, { Price: 1 }],
    ['does not exist', { ProductName: [{ exists: false }] }, { Price: 1 }, { ProductName: 'Widget' }],
    ['begins with', { Region: [{ prefix: 'us-' }] }, { Region: 'us-east-2' }, { Region: 'eu-us-1' }],
    ['begins with (ignore case)', { Region: [{ prefix: { 'equals-ignore-case': 'US-' } }] }, { Region: 'us-east-2' }, { Region: 'eu-west-1' }],
    ['ends with', { FileName: [{ suffix: '.png' }] }, { FileName: 'photo.png' }, { FileName: 'photo.jpg' }],
    ['booleans', { Active: [true] }, { Active: true }, { Active: 'true' }],
  ])('%s', (_name, pattern, hit, miss) => {
    expect(matches(pattern, hit)).toBe(true);
    expect(matches(pattern, miss)).toBe(false);
  });

  it('passes everything without patterns, and a record when any pattern matches', () => {
    expect(compileFilters([])({ anything: 1 })).toBe(true);
    const either = compileFilters([JSON.stringify({ a: ['x'] }), JSON.stringify({ b: ['y'] })]);
    expect(either({ a: 'x' })).toBe(true);
    expect(either({ b: 'y' })).toBe(true);
    expect(either({ a: 'y', b: 'x' })).toBe(false);
  });

  it('needs every named field: a missing field matches no value rule, not even anything-but', () => {
    expect(matches({ Weather: [{ 'anything-but': ['Raining'] }] }, {})).toBe(false);
    expect(matches({ UserID: [null] }, {})).toBe(false);
  });

  it('matches array values in the record when any element matches, including objects inside arrays', () => {
    expect(matches({ tags: ['b'] }, { tags: ['a', 'b'] })).toBe(true);
    expect(matches({ tags: ['c'] }, { tags: ['a', 'b'] })).toBe(false);
    expect(matches({ items: { sku: [{ prefix: 'X' }] } }, { items: [{ sku: 'A1' }, { sku: 'X9' }] })).toBe(true);
  });

  it('compares numbers by value, strings and numbers never equal each other', () => {
    expect(matches({ a: [3] }, { a: 3.0 })).toBe(true);
    expect(matches({ a: [3] }, { a: '3' })).toBe(false);
    expect(matches({ a: ['3'] }, { a: 3 })).toBe(false);
    expect(matches({ a: [{ numeric: ['>', 1] }] }, { a: '3' })).toBe(false);
  });

  it('applies exists to leaves only', () => {
    expect(matches({ a: [{ exists: true }] }, { a: { b: 1 } })).toBe(false);
    expect(matches({ a: { b: [{ exists: true }] } }, { a: { b: 1 } })).toBe(true);
  });

  it('rejects malformed patterns up front, as CreateEventSourceMapping does', () => {
    expect(() => compileFilters(['{"a": "x"}'])).toThrow(/must be a list/);
    expect(() => compileFilters(['{"a": [{"wildcard": "x*"}]}'])).toThrow(/unsupported rule/);
    expect(() => compileFilters(['{"a": [{"numeric": [">", "1"]}]}'])).toThrow(/numeric/);
    expect(() => compileFilters(['[1]'])).toThrow(/JSON object/);
    expect(() => compileFilters(['not json'])).toThrow();
  });
});

describe('compileFilters on DynamoDB stream records', () => {
  const record = (image: Record<string, unknown>) => ({
    eventName: 'MODIFY',
    eventSource: 'aws:dynamodb',
    dynamodb: { Keys: { CustomerName: { S: 'AnyCompany Industries' } }, NewImage: image, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  });
  const relationship = { dynamodb: { NewImage: { account_persisted: { BOOL: [true] }, relation_established: { BOOL: [false] } } } };

  it('matches typed attribute values (the relationship service filter)', () => {
    expect(matches(relationship, record({ account_persisted: { BOOL: true }, relation_established: { BOOL: false } }))).toBe(true);
    expect(matches(relationship, record({ account_persisted: { BOOL: true }, relation_established: { BOOL: true } }))).toBe(false);
    expect(matches(relationship, record({ account_persisted: { BOOL: true } }))).toBe(false);
  });

  it('filters on keys and on the event name', () => {
    expect(matches({ dynamodb: { Keys: { CustomerName: { S: ['AnyCompany Industries'] } } } }, record({}))).toBe(true);
    expect(matches({ eventName: ['INSERT'] }, record({}))).toBe(false);
  });

  it('compares N attributes numerically although DynamoDB sends them as strings', () => {
    const pattern = { dynamodb: { NewImage: { quantity: { N: [{ numeric: ['>=', 10, '<', 100] }] } } } };
    expect(matches(pattern, record({ quantity: { N: '12' } }))).toBe(true);
    expect(matches(pattern, record({ quantity: { N: '9.5' } }))).toBe(false);
    expect(matches({ dynamodb: { NewImage: { quantity: { N: ['12'] } } } }, record({ quantity: { N: '12' } }))).toBe(true);
  });

  it('needs exists on the typed leaf, not on the attribute', () => {
    const image = record({ AccountManager: { S: 'Pat Candella' } });
    expect(matches({ dynamodb: { NewImage: { AccountManager: { S: [{ exists: true }] } } } }, image)).toBe(true);
    expect(matches({ dynamodb: { NewImage: { AccountManager: [{ exists: true }] } } }, image)).toBe(false);
    expect(matches({ dynamodb: { OldImage: { AccountManager: { S: [{ exists: false }] } } } }, image)).toBe(true);
  });
});

describe('kinesisFilterView', () => {
  const record = (data: string) => ({
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey: '1', sequenceNumber: '4959', data: Buffer.from(data).toString('base64'), approximateArrivalTimestamp: 1 },
    eventSource: 'aws:kinesis',
    eventName: 'aws:kinesis:record',
  });
  const buy = { data: { order: { type: ['buy'] } } };

  it('lets patterns on data see the decoded JSON', () => {
    const filter = compileFilters([JSON.stringify(buy)]);
    expect(filter(kinesisFilterView(record('{"record":12345,"order":{"type":"buy","stock":"ANYCO","quantity":1000}}')))).toBe(true);
    expect(filter(kinesisFilterView(record('{"order":{"type":"sell"}}')))).toBe(false);
  });

  it('drops records whose data is not JSON when a pattern is on data, and keeps metadata filtering', () => {
    expect(compileFilters([JSON.stringify(buy)])(kinesisFilterView(record('plain text')))).toBe(false);
    expect(compileFilters([JSON.stringify({ partitionKey: ['1'] })])(kinesisFilterView(record('plain text')))).toBe(true);
  });
});

describe('compileFilters properties', () => {
  const leaf = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
  const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '$or' && k !== '__proto__');
  const tree: fc.Arbitrary<Record<string, unknown>> = fc.letrec((tie) => ({
    node: fc.dictionary(key, fc.oneof({ depthSize: 'small' }, leaf, tie('node')), { minKeys: 1, maxKeys: 4 }),
  })).node as fc.Arbitrary<Record<string, unknown>>;

  /** The pattern that names every leaf of the record with its own value. */
  const patternOf = (record: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v !== null && typeof v === 'object' ? patternOf(v as Record<string, unknown>) : [v]]));

  it('a record always matches the pattern built from its own values', () => {
    fc.assert(fc.property(tree, (record) => matches(patternOf(record), record)));
  });

  it('anything-but X never matches X, and matches any other value of the field', () => {
    fc.assert(
      fc.property(leaf, leaf, (x, y) => {
        expect(matches({ f: [{ 'anything-but': [x] }] }, { f: x })).toBe(false);
        expect(matches({ f: [{ 'anything-but': [x] }] }, { f: y })).toBe(x !== y);
      }),
    );
  });

  it('prefix and suffix agree with startsWith and endsWith', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (value, affix) => {
        expect(matches({ f: [{ prefix: affix }] }, { f: value })).toBe(value.startsWith(affix));
        expect(matches({ f: [{ suffix: affix }] }, { f: value })).toBe(value.endsWith(affix));
      }),
    );
  });

  it('a numeric range matches exactly the numbers inside it, DynamoDB N strings included', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), fc.integer(), (n, lo, hi) => {
        const inside = n >= lo && n < hi;
        expect(matches({ f: [{ numeric: ['>=', lo, '<', hi] }] }, { f: n })).toBe(inside);
        expect(matches({ f: { N: [{ numeric: ['>=', lo, '<', hi] }] } }, { f: { N: String(n) } })).toBe(inside);
      }),
    );
  });

  it('exists true and exists false are complementary', () => {
    fc.assert(
      fc.property(tree, key, (record, field) => {
        expect(matches({ [field]: [{ exists: true }] }, record)).toBe(!matches({ [field]: [{ exists: false }] }, record));
      }),
    );
  });
});
