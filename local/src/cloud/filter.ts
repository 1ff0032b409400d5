/**
 * Lambda event filtering, i.e. the EventBridge pattern language as Lambda supports it: a record passes when any
 * pattern matches. A pattern names fields; a field holds either a list of rules (the field matches when any rule
 * does), a nested pattern, or, for `$or`, a list of alternative patterns. Like EventBridge, arrays in the record
 * are flattened: a field matches when any of its values does.
 */
type Pattern = { [field: string]: unknown };
type Leaf = string | number | boolean | null;

const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'anything-but', 'numeric', 'exists']);
const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/** Compiles FilterCriteria patterns; an invalid one throws, as CreateEventSourceMapping would reject it. */
export function compileFilters(patterns: string[]): (record: unknown) => boolean {
  const parsed = patterns.map((p) => {
    const pattern: unknown = JSON.parse(p);
    validate(pattern, p);
    return pattern;
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

function validate(pattern: unknown, source: string): asserts pattern is Pattern {
  const fail = (why: string): never => {
    throw new Error(`invalid filter pattern ${source}: ${why}`);
  };
  if (pattern === null || typeof pattern !== 'object' || Array.isArray(pattern)) fail('a pattern is a JSON object');
  for (const [field, rule] of Object.entries(pattern as Pattern)) {
    if (field === '$or') {
      if (!Array.isArray(rule) || rule.length < 2) fail('$or takes a list of at least two patterns');
      for (const alternative of rule as unknown[]) validate(alternative, source);
    } else if (Array.isArray(rule)) {
      for (const r of rule) if (r !== null && typeof r === 'object') validateOperator(r as Pattern, fail);
    } else if (rule !== null && typeof rule === 'object') {
      validate(rule, source);
    } else {
      fail(`"${field}" must be a list of values or a nested pattern`);
    }
  }
}

function validateOperator(rule: Pattern, fail: (why: string) => never): void {
  const entries = Object.entries(rule);
  const [op, arg] = entries[0] ?? [];
  if (entries.length !== 1 || !op || !OPERATORS.has(op)) fail(`unsupported rule ${JSON.stringify(rule)}`);
  if (op === 'numeric') {
    const terms = arg as unknown[];
    const wellFormed = Array.isArray(terms) && terms.length > 0 && terms.length % 2 === 0 && terms.every((t, i) => (i % 2 === 0 ? typeof t === 'string' && t in COMPARE : typeof t === 'number'));
    if (!wellFormed) fail(`numeric takes operator/number pairs, got ${JSON.stringify(arg)}`);
  }
  if (op === 'exists' && typeof arg !== 'boolean') fail('exists takes true or false');
}

/** `values` are every value the path so far reaches (several once an array was crossed). */
function matchPattern(pattern: Pattern, values: unknown[]): boolean {
  return Object.entries(pattern).every(([field, rule]) => {
    if (field === '$or') return (rule as Pattern[]).some((alternative) => matchPattern(alternative, values));
    const children = values.flatMap(flatten).flatMap((v) => (isObject(v) && Object.hasOwn(v, field) ? [v[field]] : []));
    if (Array.isArray(rule)) return matchField(field, rule, children.flatMap(flatten).filter(isLeaf));
    return matchPattern(rule as Pattern, children);
  });
}

/** Rules apply to leaves only: an object is not a value, and `exists` is about leaves, as in EventBridge. */
function matchField(field: string, rules: unknown[], leaves: Leaf[]): boolean {
  return rules.some((rule) => {
    if (isObject(rule) && 'exists' in rule) return rule.exists === leaves.length > 0;
    return leaves.some((leaf) => matchRule(rule, leaf, field));
  });
}

function matchRule(rule: unknown, leaf: Leaf, field: string): boolean {
  if (!isObject(rule)) return rule === leaf;
  const [op, arg] = Object.entries(rule)[0]!;
  switch (op) {
    case 'prefix':
      return typeof leaf === 'string' && affix(arg, leaf, (v, a) => v.startsWith(a));
    case 'suffix':
      return typeof leaf === 'string' && affix(arg, leaf, (v, a) => v.endsWith(a));
    case 'equals-ignore-case':
      return typeof leaf === 'string' && leaf.toLowerCase() === String(arg).toLowerCase();
    case 'anything-but':
      if (Array.isArray(arg)) return !arg.includes(leaf);
      return isObject(arg) ? typeof leaf === 'string' && !matchRule(arg, leaf, field) : arg !== leaf;
    case 'numeric':
      return numeric(arg as unknown[], leaf, field);
    default:
      return false;
  }
}

function affix(arg: unknown, value: string, test: (v: string, a: string) => boolean): boolean {
  if (typeof arg === 'string') return test(value, arg);
  const ignoreCase = isObject(arg) ? arg['equals-ignore-case'] : undefined;
  return typeof ignoreCase === 'string' && test(value.toLowerCase(), ignoreCase.toLowerCase());
}

/** DynamoDB sends numbers as strings ({"N": "12"}); Lambda still compares them as numbers. */
function numeric(terms: unknown[], leaf: Leaf, field: string): boolean {
  const n = typeof leaf === 'number' ? leaf : field === 'N' && typeof leaf === 'string' && leaf.trim() !== '' ? Number(leaf) : NaN;
  if (Number.isNaN(n)) return false;
  for (let i = 0; i < terms.length; i += 2) if (!COMPARE[terms[i] as string]!(n, terms[i + 1] as number)) return false;
  return true;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isLeaf = (v: unknown): v is Leaf => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const flatten = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flatten) : [v]);
