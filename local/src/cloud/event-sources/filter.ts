import { LocalCloudError } from '../errors';

/**
 * Lambda event filtering: the part of the EventBridge pattern language that Lambda's filter rule syntax table lists
 * (null, empty, equals, equals-ignore-case, and, or, `$or`, anything-but a value or a list, numeric, exists, prefix,
 * suffix). A record passes when any pattern matches. A pattern names fields; a field holds either a list of rules
 * (the field matches when any rule does), a nested pattern, or, for `$or`, a list of alternative patterns. Like
 * EventBridge, arrays in the record are flattened: a field matches when any of its values does. EventBridge's other
 * operators (wildcard, cidr, anything-but or prefix/suffix with a rule inside) and dotted field names are refused at
 * deploy: Lambda does not list them, so a mapping using them could not be trusted to filter here as it would there.
 */
type Pattern = { [field: string]: unknown };
type Leaf = string | number | boolean | null;

/** A pattern CreateEventSourceMapping would refuse. */
export class FilterPatternError extends LocalCloudError {
  override name = 'FilterPatternError';
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};
/** The operators that take a string and test a string value. */
const STRING_OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case']);
const notLambdas = (what: string) => `${what} is EventBridge's, not in Lambda's filter rule syntax`;

/** Compiles FilterCriteria patterns; an invalid one throws a FilterPatternError, as CreateEventSourceMapping would refuse it. */
export function compileFilters(patterns: string[]): (record: unknown) => boolean {
  const parsed = patterns.map((p) => {
    const fail = (why: string): never => {
      throw new FilterPatternError(`invalid filter pattern ${p}: ${why}`);
    };
    let pattern: unknown;
    try {
      pattern = JSON.parse(p);
    } catch {
      fail('not JSON');
    }
    validate(pattern, fail);
    return pattern as Pattern;
  });
  if (!parsed.length) return () => true;
  return (record) => parsed.some((p) => matchPattern(p, [record]));
}

/**
 * What Lambda filters for a Kinesis record: its `kinesis` fields at the top level, with `data` decoded from base64
 * JSON. Data that is not JSON becomes absent, so a pattern on `data` drops the record, as Lambda does.
 */
export function kinesisFilterView(record: { kinesis: { data: string } & Record<string, unknown> } & Record<string, unknown>): unknown {
  const { kinesis, ...rest } = record;
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(kinesis.data, 'base64').toString('utf8'));
  } catch {
    data = undefined;
  }
  return { ...rest, ...kinesis, data };
}

type Fail = (why: string) => never;
const json = (v: unknown) => JSON.stringify(v);

function validate(pattern: unknown, fail: Fail): asserts pattern is Pattern {
  if (!isObject(pattern)) fail('a pattern is a JSON object');
  for (const [field, rule] of Object.entries(pattern as Pattern)) {
    if (field.includes('.')) fail(notLambdas(`the dotted field name "${field}"`));
    if (field === '$or') {
      if (!Array.isArray(rule) || rule.length < 2) fail('$or takes a list of at least two patterns');
      for (const alternative of rule as unknown[]) validate(alternative, fail);
    } else if (Array.isArray(rule)) {
      if (!rule.length) fail(`"${field}" has an empty list of values`);
      for (const r of rule) {
        if (Array.isArray(r)) fail(`"${field}" lists a list; values are strings, numbers, booleans, null or rules`);
        if (isObject(r)) validateRule(r, fail);
      }
    } else if (isObject(rule)) {
      validate(rule, fail);
    } else {
      fail(`"${field}" must be a list of values or a nested pattern`);
    }
  }
}

function validateRule(rule: Pattern, fail: Fail): void {
  const entries = Object.entries(rule);
  if (entries.length !== 1) fail(`a rule holds exactly one operator, got ${json(rule)}`);
  const [op, arg] = entries[0]!;
  if (STRING_OPERATORS.has(op)) {
    if (isObject(arg)) fail(notLambdas(`${op} with a rule inside (${json(arg)})`));
    if (typeof arg !== 'string') fail(`${op} takes a string, got ${json(arg)}`);
  } else if (op === 'anything-but') {
    validateAnythingBut(arg, fail);
  } else if (op === 'numeric') {
    validateNumeric(arg, fail);
  } else if (op === 'exists') {
    if (typeof arg !== 'boolean') fail(`exists takes true or false, got ${json(arg)}`);
  } else if (op === 'wildcard' || op === 'cidr') {
    fail(notLambdas(`the ${op} operator`));
  } else {
    fail(`unknown operator "${op}" in ${json(rule)}`);
  }
}

/** A string or a number, or a list of only strings or only numbers. */
function validateAnythingBut(arg: unknown, fail: Fail): void {
  const expected = 'anything-but takes a string, a number, or a list of only strings or only numbers';
  if (typeof arg === 'string' || typeof arg === 'number') return;
  if (isObject(arg)) fail(notLambdas(`anything-but with a rule inside (${json(arg)})`));
  if (!Array.isArray(arg)) fail(`${expected}, got ${json(arg)}`);
  const values = arg as unknown[];
  if (!values.length) fail(`${expected}, got an empty list`);
  if (!values.every((v) => typeof v === 'string') && !values.every((v) => typeof v === 'number')) fail(`${expected}, got ${json(arg)}`);
}

/** Operator/number pairs: `=` alone, or at most one lower bound (`>`, `>=`) and one upper bound (`<`, `<=`). */
function validateNumeric(arg: unknown, fail: Fail): void {
  const terms = Array.isArray(arg) ? arg : [];
  const pairs = terms.length > 0 && terms.length % 2 === 0 && terms.every((t, i) => (i % 2 === 0 ? typeof t === 'string' && Object.hasOwn(COMPARE, t) : Number.isFinite(t)));
  if (!pairs) fail(`numeric takes operator/number pairs, got ${json(arg)}`);
  const ops = terms.filter((_, i) => i % 2 === 0) as string[];
  const lower = ops.filter((o) => o.startsWith('>')).length;
  const upper = ops.filter((o) => o.startsWith('<')).length;
  if ((ops.includes('=') && ops.length > 1) || lower > 1 || upper > 1) fail(`numeric takes "=" alone, or at most one lower and one upper bound, got ${json(arg)}`);
}

/** `values` are every value the path so far reaches (several once an array was crossed). */
function matchPattern(pattern: Pattern, values: unknown[]): boolean {
  return Object.entries(pattern).every(([field, rule]) => {
    if (field === '$or') return (rule as Pattern[]).some((alternative) => matchPattern(alternative, values));
    const children = values.flatMap(flatten).flatMap((v) => (isObject(v) && Object.hasOwn(v, field) ? [v[field]] : []));
    if (Array.isArray(rule)) return matchField(rule, children.flatMap(flatten).filter(isLeaf));
    return matchPattern(rule as Pattern, children);
  });
}

/** Rules apply to leaves only: an object is not a value, and `exists` is about leaves, as in EventBridge. */
function matchField(rules: unknown[], leaves: Leaf[]): boolean {
  return rules.some((rule) => {
    if (isObject(rule) && 'exists' in rule) return rule.exists === leaves.length > 0;
    return leaves.some((leaf) => matchRule(rule, leaf));
  });
}

function matchRule(rule: unknown, leaf: Leaf): boolean {
  if (!isObject(rule)) return rule === leaf;
  const [op, arg] = Object.entries(rule)[0]!;
  if (STRING_OPERATORS.has(op)) return typeof leaf === 'string' && matchString(op, String(arg), leaf);
  if (op === 'anything-but') return Array.isArray(arg) ? !arg.includes(leaf) : arg !== leaf;
  return op === 'numeric' && numeric(arg as unknown[], leaf);
}

function matchString(op: string, arg: string, value: string): boolean {
  if (op === 'prefix') return value.startsWith(arg);
  if (op === 'suffix') return value.endsWith(arg);
  return value.toLowerCase() === arg.toLowerCase();
}

/** Numeric matching works on JSON numbers only: DynamoDB's {"N": "12"} is a string, which no numeric rule matches on AWS. */
function numeric(terms: unknown[], leaf: Leaf): boolean {
  if (typeof leaf !== 'number') return false;
  for (let i = 0; i < terms.length; i += 2) if (!COMPARE[terms[i] as string]!(leaf, terms[i + 1] as number)) return false;
  return true;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isLeaf = (v: unknown): v is Leaf => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const flatten = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flatten) : [v]);
