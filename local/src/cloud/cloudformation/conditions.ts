import { CloudError } from '../errors';
import type { Resolver, Template } from './template';

/**
 * A template's Conditions, as CloudFormation evaluates them before creating anything: Fn::Equals over resolved
 * values (parameters, pseudo parameters), Fn::Not, Fn::And, Fn::Or and `{ Condition: name }`. A resource whose
 * Condition is false is not created. Anything else in a condition refuses the deploy rather than guess.
 */
export function conditionValues(template: Template, resolver: Resolver, where: string): Map<string, boolean> {
  const declared = template.Conditions ?? {};
  const values = new Map<string, boolean>();
  const named = (name: string, trail: string[]): boolean => {
    const known = values.get(name);
    if (known !== undefined) return known;
    if (!(name in declared)) throw new CloudError(`${where}: condition ${name} is not declared`);
    if (trail.includes(name)) throw new CloudError(`${where}: conditions refer to each other: ${[...trail, name].join(' -> ')}`);
    const value = evaluate(declared[name], [...trail, name]);
    values.set(name, value);
    return value;
  };
  const evaluate = (expression: unknown, trail: string[]): boolean => {
    const [fn, arg] = Object.entries((expression ?? {}) as Record<string, unknown>)[0] ?? [];
    const args = Array.isArray(arg) ? arg : [];
    switch (fn) {
      case 'Fn::Equals':
        return JSON.stringify(String(resolver.resolve(args[0]))) === JSON.stringify(String(resolver.resolve(args[1])));
      case 'Fn::Not':
        return !evaluate(args[0], trail);
      case 'Fn::And':
        return args.every((a) => evaluate(a, trail));
      case 'Fn::Or':
        return args.some((a) => evaluate(a, trail));
      case 'Condition':
        return named(String(arg), trail);
      default:
        throw new CloudError(`${where}: ${fn ?? JSON.stringify(expression)} in a condition is not evaluated by the local cloud`);
    }
  };
  for (const name of Object.keys(declared)) named(name, []);
  return values;
}
