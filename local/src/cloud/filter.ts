/**
 * Lambda event filtering (the EventBridge pattern language): a record passes when any pattern matches.
 * A pattern names fields; each field lists acceptable values or matchers; nested objects go deeper; `$or` offers
 * alternatives. Record arrays match when any element does. Numbers compare numerically, including DynamoDB's
 * string-typed {"N": "12"}.
 */
type Pattern = { [field: string]: unknown };

export function compileFilters(patterns: string[]): (record: unknown) => boolean {
  if (!patterns.length) return () => true;
  const parsed = patterns.map((p) => JSON.parse(p) as Pattern);
  return (record) => parsed.some((p) => matchesPattern(p, record));
}

/** Kinesis data is base64: patterns on `data` see the decoded JSON (no match when it is not JSON). */
export function kinesisFilterView(record: { kinesis: { data: string } } & Record<string, unknown>): unknown {
  let data: unknown;
  try { data = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')); } catch { data = undefined; }
  return { ...record, data };
}

export function matchesPattern(pattern: Pattern, value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return Object.entries(pattern).every(([field, rule]) => {
    if (field === '$or') return (rule as Pattern[]).some((alternative) => matchesPattern(alternative, record));
    if (Array.isArray(rule)) return matchesField(field in record, record[field], rule);
    return matchesPattern(rule as Pattern, record[field]);
  });
}

function matchesField(present: boolean, value: unknown, rules: unknown[]): boolean {
  return rules.some((rule) => {
    if (rule !== null && typeof rule === 'object' && 'exists' in rule) return (rule as { exists: boolean }).exists === (present && value !== undefined);
    if (!present) return false;
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => matchesRule(rule, v));
  });
}

function matchesRule(rule: unknown, value: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return equals(rule, value);
  const [op, arg] = Object.entries(rule)[0] ?? [];
  switch (op) {
    case 'prefix': return typeof value === 'string' && affix(arg, value, (v, a) => v.startsWith(a));
    case 'suffix': return typeof value === 'string' && affix(arg, value, (v, a) => v.endsWith(a));
    case 'equals-ignore-case': return typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase();
    case 'anything-but': return anythingBut(arg, value);
    case 'numeric': return numeric(arg as unknown[], value);
    default: return false;
  }
}

function equals(expected: unknown, value: unknown): boolean {
  if (typeof expected === 'number') { const n = asNumber(value); return n !== undefined && n === expected; }
  return expected === value;
}

function affix(arg: unknown, value: string, test: (v: string, a: string) => boolean): boolean {
  if (typeof arg === 'string') return test(value, arg);
  const ignoreCase = (arg as { 'equals-ignore-case'?: string })['equals-ignore-case'];
  return typeof ignoreCase === 'string' && test(value.toLowerCase(), ignoreCase.toLowerCase());
}

function anythingBut(arg: unknown, value: unknown): boolean {
  if (Array.isArray(arg)) return !arg.some((a) => equals(a, value));
  if (arg !== null && typeof arg === 'object') return !matchesRule(arg, value);
  return !equals(arg, value);
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b, '<': (a, b) => a < b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b,
};

function numeric(conditions: unknown[], value: unknown): boolean {
  const n = asNumber(value);
  if (n === undefined) return false;
  for (let i = 0; i < conditions.length; i += 2) {
    const compare = COMPARE[String(conditions[i])];
    if (!compare || !compare(n, Number(conditions[i + 1]))) return false;
  }
  return true;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}
