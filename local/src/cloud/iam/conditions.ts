import { LocalCloudError } from '../errors';

/**
 * IAM condition blocks and policy variables, as the IAM user guide's reference for condition operators and policy
 * variables documents them, for the operators our policies use. Condition keys are case-insensitive; values of the
 * string operators are case-sensitive (but StringEqualsIgnoreCase).
 */

/** What a request brings to its evaluation: condition key (any case) -> its value(s); an absent key is undefined. */
export type RequestContext = Record<string, string | string[] | undefined>;

/** A condition operator this evaluator does not know: refused, never guessed (a wrong guess could allow). */
export class UnsupportedCondition extends LocalCloudError {
  override name = 'UnsupportedCondition';
}

const lookup = (context: RequestContext, key: string): string[] | undefined => {
  const found = Object.keys(context).find((k) => k.toLowerCase() === key.toLowerCase());
  const value = found === undefined ? undefined : context[found];
  return value === undefined ? undefined : ([] as string[]).concat(value);
};

/**
 * A policy string with its variables (`${aws:PrincipalTag/client}`) replaced by the request's values, or undefined
 * when a variable has no value: IAM then treats the resource or condition value as not matching. `${*}`, `${?}` and
 * `${$}` stand for the literal characters. A variable's value matches literally even where its pattern is a glob.
 */
export function substitute(pattern: string, context: RequestContext): string | undefined {
  let missing = false;
  const result = pattern.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    if (name === '*' || name === '?' || name === '$') return name;
    // A default value (`${aws:PrincipalTag/x, 'none'}`) is not used by our policies: refused rather than misread.
    if (name.includes(',')) throw new UnsupportedCondition(`the policy variable \${${name}} has a default value, which the local IAM evaluator does not read`);
    const value = lookup(context, name.trim());
    if (value?.length !== 1) {
      missing = true;
      return '';
    }
    return value[0]!;
  });
  return missing ? undefined : result;
}

/** IAM's wildcards for StringLike and resources, as a regular expression's source: `*` any run of characters, `?` any one. */
const globSource = (pattern: string) =>
  pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
const literalSource = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** IAM's wildcards, anchored; `flags` adds e.g. `i` for actions. */
export const globOf = (pattern: string, flags = '') => new RegExp(`^${globSource(pattern)}$`, `s${flags}`);

/** A glob with its policy variables substituted, each value matching only itself (a `*` in a tag is no wildcard). */
export function likePattern(pattern: string, context: RequestContext): RegExp | undefined {
  const parts = pattern.split(/(\$\{[^}]+\})/);
  const sources = parts.map((part, i) => {
    if (i % 2 === 0) return globSource(part);
    const value = substitute(part, context);
    return value === undefined ? undefined : literalSource(value);
  });
  return sources.includes(undefined) ? undefined : new RegExp(`^${sources.join('')}$`, 's');
}

type Match = (actual: string, expected: string, context: RequestContext) => boolean;
const OPERATORS: Record<string, { match: Match; negated: boolean }> = {
  StringEquals: { match: (a, e, c) => a === substitute(e, c), negated: false },
  StringNotEquals: { match: (a, e, c) => a === substitute(e, c), negated: true },
  StringEqualsIgnoreCase: { match: (a, e, c) => a.toLowerCase() === substitute(e, c)?.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (a, e, c) => a.toLowerCase() === substitute(e, c)?.toLowerCase(), negated: true },
  StringLike: { match: (a, e, c) => likePattern(e, c)?.test(a) ?? false, negated: false },
  StringNotLike: { match: (a, e, c) => likePattern(e, c)?.test(a) ?? false, negated: true },
  ArnEquals: { match: (a, e, c) => likePattern(e, c)?.test(a) ?? false, negated: false },
  ArnLike: { match: (a, e, c) => likePattern(e, c)?.test(a) ?? false, negated: false },
  ArnNotEquals: { match: (a, e, c) => likePattern(e, c)?.test(a) ?? false, negated: true },
  ArnNotLike: { match: (a, e, c) => likePattern(e, c)?.test(a) ?? false, negated: true },
  Bool: { match: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
};

/** One operator over one key: any expected value matching is a match (OR); negated operators invert it. */
function holds(operator: string, key: string, expectedValues: string[], context: RequestContext): boolean {
  const qualifier = operator.match(/^(ForAllValues|ForAnyValue):/)?.[1];
  const bare = operator.replace(/^(ForAllValues|ForAnyValue):/, '');
  const ifExists = bare.endsWith('IfExists');
  const name = ifExists ? bare.slice(0, -'IfExists'.length) : bare;
  const actual = lookup(context, key);
  if (name === 'Null') {
    if (qualifier || ifExists) throw new UnsupportedCondition(`the condition operator ${operator} is not one IAM documents`);
    // Null true: the key is absent; Null false: it is present.
    return expectedValues.some((e) => (e.toLowerCase() === 'true') === (actual === undefined));
  }
  const op = OPERATORS[name];
  if (!op) throw new UnsupportedCondition(`the condition operator ${operator} is not evaluated by the local IAM evaluator`);
  if (actual === undefined) return ifExists || (op.negated && !qualifier) || qualifier === 'ForAllValues';
  const one = (a: string) => expectedValues.some((e) => op.match(a, e, context));
  if (qualifier === 'ForAllValues') return actual.every((a) => (op.negated ? !one(a) : one(a)));
  if (qualifier === 'ForAnyValue') return actual.some((a) => (op.negated ? !one(a) : one(a)));
  const matched = actual.some(one);
  return op.negated ? !matched : matched;
}

/** Whether a statement's Condition block holds: every operator and every key in it must (AND). */
export function conditionsHold(condition: Record<string, Record<string, unknown>> | undefined, context: RequestContext): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys ?? {}).every(([key, expected]) => holds(operator, key, ([] as unknown[]).concat(expected).map(String), context)),
  );
}
