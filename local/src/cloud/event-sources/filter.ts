import { BlockList, isIP } from 'node:net';
import { LocalCloudError } from '../errors';

/**
 * Lambda event filtering, i.e. the EventBridge pattern language (Lambda documents the same syntax and rules): a
 * record passes when any pattern matches. A pattern names fields; a field holds either a list of rules (the field
 * matches when any rule does), a nested pattern, or, for `$or`, a list of alternative patterns. Like EventBridge,
 * arrays in the record are flattened: a field matches when any of its values does.
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
/** The operators that take a string and test a string value; under anything-but, the ones that also take a list. */
const STRING_OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);
const LISTABLE_UNDER_ANYTHING_BUT = new Set(['equals-ignore-case', 'wildcard']);

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
  if (op === 'prefix' || op === 'suffix') {
    // prefix and suffix also take {"equals-ignore-case": "..."}
    const value = isObject(arg) && Object.keys(arg).length === 1 ? arg['equals-ignore-case'] : arg;
    if (typeof value !== 'string') fail(`${op} takes a string, got ${json(arg)}`);
  } else if (op === 'equals-ignore-case' || op === 'wildcard') {
    if (typeof arg !== 'string') fail(`${op} takes a string, got ${json(arg)}`);
    if (op === 'wildcard') validateWildcard(arg as string, fail);
  } else if (op === 'anything-but') {
    validateAnythingBut(arg, fail);
  } else if (op === 'numeric') {
    validateNumeric(arg, fail);
  } else if (op === 'exists') {
    if (typeof arg !== 'boolean') fail(`exists takes true or false, got ${json(arg)}`);
  } else if (op === 'cidr') {
    if (!cidrOf(arg)) fail(`cidr takes an IPv4 or IPv6 range such as "10.0.0.0/24", got ${json(arg)}`);
  } else {
    fail(`unknown operator "${op}" in ${json(rule)}`);
  }
}

/** A string or a number, a list of only strings or only numbers, or one string rule (not a numeric one, not exists). */
function validateAnythingBut(arg: unknown, fail: Fail): void {
  const expected = 'anything-but takes a string, a number, a list of only strings or only numbers, or a prefix, suffix, equals-ignore-case or wildcard rule';
  if (typeof arg === 'string' || typeof arg === 'number') return;
  if (Array.isArray(arg)) {
    if (!arg.length) fail(`${expected}, got an empty list`);
    if (!arg.every((v) => typeof v === 'string') && !arg.every((v) => typeof v === 'number')) fail(`${expected}, got ${json(arg)}`);
    return;
  }
  const entries = isObject(arg) ? Object.entries(arg) : [];
  const [op, value] = entries[0] ?? [];
  if (entries.length !== 1 || !op || !STRING_OPERATORS.has(op)) fail(`${expected}, got ${json(arg)}`);
  const values = LISTABLE_UNDER_ANYTHING_BUT.has(op!) && Array.isArray(value) && value.length ? value : [value];
  if (!values.every((v) => typeof v === 'string')) fail(`anything-but ${op} takes a string, got ${json(value)}`);
  if (op === 'wildcard') for (const v of values as string[]) validateWildcard(v, fail);
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

function validateWildcard(value: string, fail: Fail): void {
  if (/(^|[^\\])\*\*/.test(value)) fail(`wildcard does not allow consecutive "*", got ${json(value)}`);
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
  if (STRING_OPERATORS.has(op)) return typeof leaf === 'string' && matchString(op, arg, leaf);
  switch (op) {
    case 'anything-but':
      if (Array.isArray(arg)) return !arg.includes(leaf);
      if (!isObject(arg)) return arg !== leaf;
      return typeof leaf === 'string' && !Object.entries(arg).some(([o, a]) => [a].flat().some((v) => matchString(o, v, leaf)));
    case 'numeric':
      return numeric(arg as unknown[], leaf);
    case 'cidr': {
      const range = cidrOf(arg)!;
      return typeof leaf === 'string' && isIP(leaf) === range.family && range.list.check(leaf, range.family === 4 ? 'ipv4' : 'ipv6');
    }
    default:
      return false;
  }
}

function matchString(op: string, arg: unknown, value: string): boolean {
  const ignoreCase = isObject(arg);
  const a = ignoreCase ? String(arg['equals-ignore-case']).toLowerCase() : String(arg);
  const v = ignoreCase ? value.toLowerCase() : value;
  if (op === 'prefix') return v.startsWith(a);
  if (op === 'suffix') return v.endsWith(a);
  if (op === 'equals-ignore-case') return v.toLowerCase() === a.toLowerCase();
  return wildcardRegExp(a).test(v);
}

/** `*` matches any run of characters (none included); a backslash makes the next character literal (`\*`). */
function wildcardRegExp(wildcard: string): RegExp {
  const literal = (c: string) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let source = '';
  for (let i = 0; i < wildcard.length; i++) {
    const c = wildcard[i]!;
    if (c === '\\' && i + 1 < wildcard.length) source += literal(wildcard[++i]!);
    else source += c === '*' ? '.*' : literal(c);
  }
  return new RegExp(`^${source}$`, 's');
}

/** Numeric matching works on JSON numbers only: DynamoDB's {"N": "12"} is a string, which no numeric rule matches on AWS. */
function numeric(terms: unknown[], leaf: Leaf): boolean {
  if (typeof leaf !== 'number') return false;
  for (let i = 0; i < terms.length; i += 2) if (!COMPARE[terms[i] as string]!(leaf, terms[i + 1] as number)) return false;
  return true;
}

function cidrOf(arg: unknown): { family: 4 | 6; list: BlockList } | undefined {
  const [, address, bits] = typeof arg === 'string' ? (/^([^/]+)\/(\d{1,3})$/.exec(arg) ?? []) : [];
  const family = address ? isIP(address) : 0;
  if (!address || (family !== 4 && family !== 6) || Number(bits) > (family === 4 ? 32 : 128)) return undefined;
  const list = new BlockList();
  list.addSubnet(address, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
  return { family, list };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isLeaf = (v: unknown): v is Leaf => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const flatten = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flatten) : [v]);
