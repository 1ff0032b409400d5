import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CloudError } from '../errors';
import type { ParameterDeclaration } from './parameters';
import { ACCOUNT, REGION } from '../account';

export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  /** A condition of the template's Conditions: the resource exists only when it holds (conditions.ts). */
  Condition?: string;
}
export interface Template {
  Parameters?: Record<string, ParameterDeclaration>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
}

/** One packaged service: its CloudFormation template and, for services with functions, its code bundle. */
export interface Stack {
  service: string;
  dir: string;
  stackName: string;
  stage: string;
  template: Template;
}

export function loadStack(dir: string): Stack {
  const packaged = join(dir, '.serverless');
  const templateFile = join(packaged, 'cloudformation-template-update-stack.json');
  const stateFile = join(packaged, 'serverless-state.json');
  if (!existsSync(templateFile) || !existsSync(stateFile)) throw new CloudError(`${dir} is not packaged: run \`npm run package\` first`);
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { service: { service: string; provider: { stage: string } } };
  const service = state.service.service;
  const stage = state.service.provider.stage;
  return { service, dir, stackName: `${service}-${stage}`, stage, template: JSON.parse(readFileSync(templateFile, 'utf8')) as Template };
}

/** A function's code as packaged: the zip its Code.S3Key names (one per service, or one per function when individually packaged). */
export function artifactOf(stack: Stack, s3Key: string): string {
  const artifact = join(stack.dir, '.serverless', basename(s3Key));
  if (!existsSync(artifact)) throw new CloudError(`${stack.dir} is not packaged: run \`npm run package\` first (${basename(s3Key)} is missing)`);
  return artifact;
}

/**
 * The resources in an order CloudFormation could create them: each after what it names through DependsOn, Ref,
 * Fn::GetAtt or Fn::Sub within the stack.
 */
export function deployOrder(template: Template): string[] {
  const resources = template.Resources;
  const order: string[] = [];
  const visit = (id: string, trail: string[]) => {
    if (order.includes(id)) return;
    if (trail.includes(id)) throw new CloudError(`the template has a dependency cycle: ${[...trail, id].join(' -> ')}`);
    const r = resources[id]!;
    const named = new Set([...[r.DependsOn ?? []].flat(), ...references(r.Properties)]);
    for (const dep of named) if (dep in resources) visit(dep, [...trail, id]);
    order.push(id);
  };
  for (const id of Object.keys(resources)) visit(id, []);
  return order;
}

/** The logical ids a value refers to (pseudo parameters and unknown names included; the caller filters). */
function references(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(references);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, arg]) => {
    if (key === 'Ref') return [String(arg)];
    if (key === 'Fn::GetAtt') return [Array.isArray(arg) ? String(arg[0]) : String(arg).split('.')[0]!, ...references(arg)];
    if (key === 'Fn::Sub') {
      const text = Array.isArray(arg) ? String(arg[0]) : String(arg);
      return [...[...text.matchAll(/\$\{([^!}][^}.]*)/g)].map((m) => m[1]!), ...references(Array.isArray(arg) ? arg[1] : undefined)];
    }
    return references(arg);
  });
}

/** What a resource answers to Ref and Fn::GetAtt once it exists. */
export interface Physical {
  ref: string;
  attributes: Record<string, string>;
}

/** Resolves CloudFormation intrinsic functions against what the local cloud has created so far. */
export class Resolver {
  constructor(
    private readonly stack: Stack,
    private readonly physical: Map<string, Physical>,
    private readonly exports: Record<string, string>,
    /** The stack's parameter values (parameters.ts). */
    private readonly parameters: Readonly<Record<string, string>> = {},
  ) {}

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1 && (entries[0]![0] === 'Ref' || entries[0]![0].startsWith('Fn::'))) {
      const [fn, arg] = entries[0]!;
      switch (fn) {
        case 'Ref':
          return arg === 'AWS::NoValue' ? NO_VALUE : this.ref(String(arg));
        case 'Fn::GetAtt':
          return Array.isArray(arg) ? this.getAtt(String(arg[0]), String(this.resolve(arg[1]))) : this.getAtt(...splitAtt(String(arg)));
        case 'Fn::ImportValue':
          return this.importValue(String(this.resolve(arg)));
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown];
          return (this.resolve(parts) as unknown[]).join(sep);
        }
        case 'Fn::Select': {
          const [i, list] = arg as [unknown, unknown];
          return (this.resolve(list) as unknown[])[Number(this.resolve(i))];
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, unknown];
          return String(this.resolve(text)).split(sep);
        }
        case 'Fn::Sub':
          return this.sub(arg);
        case 'Fn::GetAZs':
          return ['a', 'b', 'c'].map((zone) => `${REGION}${zone}`);
        default:
          throw new CloudError(`${this.stack.service}: ${fn} is not supported by the local cloud`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]).filter(([, v]) => v !== NO_VALUE));
  }

  private pseudo(name: string): string | undefined {
    return (
      {
        'AWS::Region': REGION,
        'AWS::AccountId': ACCOUNT,
        'AWS::Partition': 'aws',
        'AWS::StackName': this.stack.stackName,
        'AWS::URLSuffix': 'amazonaws.com',
        'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${this.stack.stackName}/local`,
      } as Record<string, string>
    )[name];
  }

  private ref(name: string): string {
    const value = this.pseudo(name) ?? this.parameters[name] ?? this.physical.get(name)?.ref;
    if (value === undefined) throw new CloudError(`${this.stack.service}: Ref to ${name}, which the local cloud has not created`);
    return value;
  }

  private getAtt(resource: string, attribute: string): string {
    const value = this.physical.get(resource)?.attributes[attribute];
    if (value === undefined) throw new CloudError(`${this.stack.service}: Fn::GetAtt ${resource}.${attribute} is not known to the local cloud`);
    return value;
  }

  private importValue(name: string): string {
    const value = this.exports[name];
    if (value === undefined) throw new CloudError(`${this.stack.service} imports ${name}, which no stack deployed before it exports: check dependsOn in serverless-compose.yml`);
    return value;
  }

  private sub(arg: unknown): string {
    const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`; // ${!Literal} is the escape for a literal ${Literal}
      if (name in vars) return String(this.resolve(vars[name]));
      if (name.includes('.')) return this.getAtt(...splitAtt(name));
      return this.ref(name);
    });
  }
}

/** What Ref AWS::NoValue resolves to: the property is removed, as CloudFormation does. */
const NO_VALUE = Symbol('AWS::NoValue');

/** `Resource.Attribute`, where the attribute may itself contain dots (e.g. Endpoint.Address). */
const splitAtt = (name: string): [string, string] => {
  const dot = name.indexOf('.');
  return [name.slice(0, dot), name.slice(dot + 1)];
};
