import { CloudError } from '../errors';
import type { Stack } from './template';

/** A template's parameter as CloudFormation declares it (the properties the local cloud checks). */
export interface ParameterDeclaration {
  Type: string;
  Default?: string | number;
  MinValue?: number;
  MaxValue?: number;
  AllowedValues?: Array<string | number>;
}

/**
 * The values of a stack's parameters: an override (`dataharvest up --chunk-size`, as `--parameter-overrides` would
 * give it on deploy) or the declared default, checked as CloudFormation checks them. A parameter with neither, or of
 * a type the local cloud does not resolve, refuses the deploy.
 */
export function stackParameters(stack: Stack, overrides: Readonly<Record<string, string>> = {}): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, p] of Object.entries(stack.template.Parameters ?? {})) {
    const where = `${stack.stackName}: parameter ${name}`;
    if (p.Type !== 'String' && p.Type !== 'Number') throw new CloudError(`${where} has type ${p.Type}; the local cloud resolves String and Number parameters only`);
    const value = overrides[name] ?? (p.Default === undefined ? undefined : String(p.Default));
    if (value === undefined) throw new CloudError(`${where} has no value: it declares no Default and none was given`);
    if (p.Type === 'Number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new CloudError(`${where} must be a number, not "${value}"`);
      if ((p.MinValue !== undefined && n < p.MinValue) || (p.MaxValue !== undefined && n > p.MaxValue)) {
        throw new CloudError(`${where} must be within [${p.MinValue ?? '-∞'}, ${p.MaxValue ?? '∞'}], not ${value}`);
      }
    }
    if (p.AllowedValues && !p.AllowedValues.map(String).includes(value)) throw new CloudError(`${where} must be one of ${p.AllowedValues.join(', ')}, not "${value}"`);
    values[name] = value;
  }
  return values;
}

/** Overrides must each name a parameter some stack declares: a misspelt one would otherwise change nothing, silently. */
export function checkOverrides(stacks: readonly Stack[], overrides: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(overrides)) {
    if (!stacks.some((s) => s.template.Parameters?.[name])) throw new CloudError(`no deployed template declares the parameter ${name}`);
  }
}
