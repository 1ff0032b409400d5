import fc from 'fast-check';
import { compileFilters, FilterPatternError, kinesisFilterView } from '../src/cloud/event-sources/filter';

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
    ['numeric (equals)', { Price: [{ numeric: ['=', 100] }] }, { Price: 100 }, { Price: 101 }],
    ['numeric (range)', { Price: [{ numeric: ['>', 10, '<=', 20] }] }, { Price: 20 }, { Price: 10 }],
    ['exists', { ProductName: [{ exists: true }] }, { ProductName: 'Widget' }, { Price: 1 }],
    ['does not exist', { ProductName: [{ exists: false }] }, { Price: 1 }, { ProductName: 'Widget' }],
    ['begins with', { Region: [{ prefix: 'us-' }] }, { Region: 'us-east-2' }, { Region: 'eu-us-1' }],
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
    expect(() => compileFilters(['{"a": [{"numeric": [">", "1"]}]}'])).toThrow(/numeric/);
    expect(() => compileFilters(['[1]'])).toThrow(/JSON object/);
    expect(() => compileFilters(['not json'])).toThrow(FilterPatternError);
    expect(() => compileFilters(['not json'])).toThrow('invalid filter pattern not json: not JSON');
    expect(() => compileFilters(['[1]'])).toThrow(expect.objectContaining({ name: 'FilterPatternError' }));
  });

  it.each([
    ['an empty list of values', { a: [] }, /"a" has an empty list of values/],
    ['a list inside the values', { a: [['x']] }, /"a" lists a list/],
    ['prefix with a number', { a: [{ prefix: 1 }] }, /prefix takes a string, got 1/],
    ['prefix with a list', { a: [{ prefix: ['x', 'y'] }] }, /prefix takes a string, got \["x","y"\]/],
    ['suffix with a list', { a: [{ suffix: ['.csv'] }] }, /suffix takes a string/],
    ['equals-ignore-case with a number', { a: [{ 'equals-ignore-case': 1 }] }, /equals-ignore-case takes a string/],
    ['equals-ignore-case with a list', { a: [{ 'equals-ignore-case': ['x'] }] }, /equals-ignore-case takes a string/],
    ['a repeated lower bound', { a: [{ numeric: ['>', 1, '>', 2] }] }, /at most one lower and one upper bound/],
    ['a repeated upper bound', { a: [{ numeric: ['<', 1, '<=', 2] }] }, /at most one lower and one upper bound/],
    ['= with a range', { a: [{ numeric: ['=', 1, '<', 2] }] }, /"=" alone/],
    ['numeric with an unknown operator', { a: [{ numeric: ['!=', 1] }] }, /operator\/number pairs/],
    ['anything-but null', { a: [{ 'anything-but': null }] }, /anything-but takes .*, got null/],
    ['anything-but an empty list', { a: [{ 'anything-but': [] }] }, /anything-but takes .*, got an empty list/],
    ['anything-but a mixed list', { a: [{ 'anything-but': ['x', 1] }] }, /anything-but takes .*, got \["x",1\]/],
    ['anything-but a list of null', { a: [{ 'anything-but': [null] }] }, /anything-but takes/],
    ['anything-but a boolean', { a: [{ 'anything-but': true }] }, /anything-but takes/],
    ['an unknown operator', { a: [{ contains: 'x' }] }, /unknown operator "contains"/],
    ['two operators in one rule', { a: [{ prefix: 'x', suffix: 'y' }] }, /exactly one operator/],
    ['exists with a string', { a: [{ exists: 'yes' }] }, /exists takes true or false/],
    ['$or with one alternative', { $or: [{ a: ['x'] }] }, /\$or takes a list of at least two/],
    ['$or with an object instead of a list', { $or: { a: ['x'] } }, /\$or takes a list of at least two/],
    ['an invalid rule in a nested pattern', { a: { b: [{ prefix: 1 }] } }, /prefix takes a string, got 1/],
    ['a repeated lower bound, inclusive first', { a: [{ numeric: ['>=', 1, '>', 2] }] }, /at most one lower and one upper bound/],
    ['an empty rule', { a: [{}] }, /exactly one operator, got \{\}/],
    ['numeric with an empty list', { a: [{ numeric: [] }] }, /numeric takes operator\/number pairs, got \[\]/],
    ['numeric with an operator but no number', { a: [{ numeric: ['>', 1, '<'] }] }, /numeric takes operator\/number pairs/],
    ['numeric with an inherited property name as its operator', { a: [{ numeric: ['toString', 1] }] }, /numeric takes operator\/number pairs/],
    ['an invalid alternative of $or', { $or: [{ a: ['x'] }, { b: [{ prefix: 1 }] }] }, /prefix takes a string/],
  ])('refuses %s', (_name, pattern, why) => {
    expect(() => compileFilters([JSON.stringify(pattern)])).toThrow(FilterPatternError);
    expect(() => compileFilters([JSON.stringify(pattern)])).toThrow(why);
  });

  it.each([
    ['wildcard', { a: [{ wildcard: 'a*' }] }, 'the wildcard operator'],
    ['cidr', { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] }, 'the cidr operator'],
    ['anything-but prefix', { Region: [{ 'anything-but': { prefix: 'us-' } }] }, 'anything-but with a rule inside ({"prefix":"us-"})'],
    ['anything-but suffix', { FileName: [{ 'anything-but': { suffix: '.txt' } }] }, 'anything-but with a rule inside ({"suffix":".txt"})'],
    ['anything-but ignoring case', { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped'] } }] }, 'anything-but with a rule inside ({"equals-ignore-case":["Stopped"]})'],
    ['anything-but wildcard', { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, 'anything-but with a rule inside ({"wildcard":"*/lib/*"})'],
    ['prefix ignoring case', { Region: [{ prefix: { 'equals-ignore-case': 'US-' } }] }, 'prefix with a rule inside ({"equals-ignore-case":"US-"})'],
    ['suffix ignoring case', { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }, 'suffix with a rule inside ({"equals-ignore-case":".png"})'],
    ['a dotted field name', { 'dynamodb.NewImage': { a: ['x'] } }, 'the dotted field name "dynamodb.NewImage"'],
  ])("refuses %s, which EventBridge has and Lambda's filter rule table does not list", (_name, pattern, what) => {
    expect(() => compileFilters([JSON.stringify(pattern)])).toThrow(
      new FilterPatternError(`invalid filter pattern ${JSON.stringify(pattern)}: ${what} is EventBridge's, not in Lambda's filter rule syntax`),
    );
  });
});

/** The examples of the EventBridge event pattern docs for the operators Lambda's filter rule table lists. */
describe('compileFilters: the documented content filters', () => {
  it.each([
    ['null', { responseElements: [null] }, { responseElements: null }, { responseElements: 'x' }],
    ['empty', { LastName: [''] }, { LastName: '' }, { LastName: ' ' }],
    ['exists', { 'c-count': [{ exists: true }] }, { 'c-count': 3 }, { 'd-count': 3 }],
    ['does not exist', { 'c-count': [{ exists: false }] }, { 'd-count': 3 }, { 'c-count': 3 }],
    ['prefix', { time: [{ prefix: '2017-10-02' }] }, { time: '2017-10-02T18:43:48Z' }, { time: '2017-10-03T18:43:48Z' }],
    ['suffix', { FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' }, { FileName: 'image.PNG' }],
    [
      'equals-ignore-case',
      { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] },
      { 'detail-type': 'EC2 Instance State-change Notification' },
      { 'detail-type': 'EC2 Instance Launch' },
    ],
    ['prefix on a number', { Region: [{ prefix: 'us-' }] }, { Region: 'us-east-1' }, { Region: 5 }],
    ['numeric inclusive lower bound', { n: [{ numeric: ['>=', 5] }] }, { n: 5 }, { n: 4 }],
    ['anything-but a string', { state: [{ 'anything-but': 'initializing' }] }, { state: 'running' }, { state: 'initializing' }],
    ['anything-but a number', { 'x-limit': [{ 'anything-but': 123 }] }, { 'x-limit': 124 }, { 'x-limit': 123 }],
    ['anything-but a list of strings', { state: [{ 'anything-but': ['stopped', 'overloaded'] }] }, { state: 'running' }, { state: 'overloaded' }],
    ['anything-but a list of numbers', { 'x-limit': [{ 'anything-but': [100, 200, 300] }] }, { 'x-limit': 150 }, { 'x-limit': 200 }],
    ['numeric range', { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'c-count': 5 }, { 'c-count': 0 }],
    ['numeric upper bound', { 'd-count': [{ numeric: ['<', 10] }] }, { 'd-count': 9.5 }, { 'd-count': 10 }],
    ['numeric equals', { 'x-limit': [{ numeric: ['=', 3.018e2] }] }, { 'x-limit': 301.8 }, { 'x-limit': 301 }],
    ['numeric on a number written as a string', { 'x-limit': [{ numeric: ['>', 0] }] }, { 'x-limit': 1 }, { 'x-limit': '1' }],
    [
      '$or across fields',
      { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }, { 'x-limit': [{ numeric: ['=', 3.018e2] }] }] },
      { 'c-count': 7, 'd-count': 3 },
      { 'c-count': 7, 'd-count': 10, 'x-limit': 300 },
    ],
  ])('%s', (_name, pattern, hit, miss) => {
    expect(matches(pattern, hit)).toBe(true);
    expect(matches(pattern, miss)).toBe(false);
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

  it('never matches numeric rules on N attributes, which are strings in the record, as on AWS', () => {
    const pattern = { dynamodb: { NewImage: { quantity: { N: [{ numeric: ['>=', 10, '<', 100] }] } } } };
    expect(matches(pattern, record({ quantity: { N: '12' } }))).toBe(false);
    // What does match them: their string form.
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
  const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '$or' && k !== '__proto__' && !k.includes('.'));
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
    // anything-but takes strings and numbers only
    const value = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
    fc.assert(
      fc.property(value, leaf, (x, y) => {
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

  it('a numeric range matches exactly the numbers inside it, and never their string form', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), fc.integer(), (n, lo, hi) => {
        expect(matches({ f: [{ numeric: ['>=', lo, '<', hi] }] }, { f: n })).toBe(n >= lo && n < hi);
        expect(matches({ f: { N: [{ numeric: ['>=', lo, '<', hi] }] } }, { f: { N: String(n) } })).toBe(false);
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

/** A list under anything-but excludes each of its values, and deploy refuses a list with any bad value in it. */
describe('compileFilters: anything-but lists, every value of them', () => {
  it.each([
    ['strings', { stage: [{ 'anything-but': ['COMPLETE', 'FAILED', 'REJECTED'] }] }, { stage: 'RELATED' }, [{ stage: 'COMPLETE' }, { stage: 'FAILED' }, { stage: 'REJECTED' }]],
    ['numbers', { n: [{ 'anything-but': [1, 2, 3] }] }, { n: 4 }, [{ n: 1 }, { n: 2 }, { n: 3 }]],
  ])('a filter excluding several %s lets none of them through, not just the first', (_name, pattern, kept, excluded) => {
    expect(matches(pattern, kept)).toBe(true);
    expect(excluded.map((record) => matches(pattern, record))).toEqual(excluded.map(() => false));
  });

  it.each([['a number after strings', { a: [{ 'anything-but': ['x', 'y', 1] }] }, /anything-but takes .*, got \["x","y",1\]/]])(
    'refuses at deploy %s, instead of a filter that cannot match as written',
    (_name, pattern, why) => {
      expect(() => compileFilters([JSON.stringify(pattern)])).toThrow(FilterPatternError);
      expect(() => compileFilters([JSON.stringify(pattern)])).toThrow(why);
    },
  );
});
