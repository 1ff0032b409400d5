import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { CloudError } from './errors';
import { ACCOUNT, REGION } from './services';

export interface Resource { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[] }
export interface Template { Resources: Record<string, Resource>; Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }> }

/** One packaged service: its CloudFormation template and, for services with functions, its code bundle. */
export interface Stack { service: string; dir: string; stackName: string; stage: string; template: Template; artifact?: string }

/** The services of serverless-compose.yml in dependency order, each read from its packaged `.serverless/`. */
export function loadComposedStacks(root: string): Stack[] {
  const composeFile = join(root, 'serverless-compose.yml');
  const compose = yaml.load(readFileSync(composeFile, 'utf8')) as { services: Record<string, { path: string; dependsOn?: string[] }> };
  const order: string[] = [];
  const visit = (name: string, trail: string[]) => {
    if (order.includes(name)) return;
    if (trail.includes(name)) throw new CloudError(`serverless-compose.yml has a dependency cycle: ${[...trail, name].join(' -> ')}`);
    for (const dep of compose.services[name]?.dependsOn ?? []) visit(dep, [...trail, name]);
    order.push(name);
  };
  Object.keys(compose.services).forEach((name) => visit(name, []));
  return order.map((name) => loadStack(resolve(root, compose.services[name]!.path)));
}

export function loadStack(dir: string): Stack {
  const packaged = join(dir, '.serverless');
  const templateFile = join(packaged, 'cloudformation-template-update-stack.json');
  if (!existsSync(templateFile)) throw new CloudError(`${dir} is not packaged: run \`npm run package\` first`);
  const state = JSON.parse(readFileSync(join(packaged, 'serverless-state.json'), 'utf8')) as { service: { service: string; provider: { stage: string } }; package?: { artifact?: string } };
  const service = state.service.service;
  const stage = state.service.provider.stage;
  const artifact = join(packaged, `${service}.zip`);
  return { service, dir, stackName: `${service}-${stage}`, stage, template: JSON.parse(readFileSync(templateFile, 'utf8')) as Template, artifact: existsSync(artifact) ? artifact : undefined };
}

/** What a resource answers to Ref and Fn::GetAtt once it exists. */
export interface Physical { ref: string; attributes: Record<string, string> }

export const arn = {
  table: (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`,
  queue: (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  stream: (name: string) => `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${name}`,
  bucket: (name: string) => `arn:aws:s3:::${name}`,
  function: (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
};

/** Resolves CloudFormation intrinsic functions against what the local cloud has created so far. */
export class Resolver {
  constructor(
    private readonly stack: Stack,
    private readonly physical: Map<string, Physical>,
    private readonly exports: Record<string, string>,
  ) {}

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      switch (fn) {
        case 'Ref': return this.ref(String(arg));
        case 'Fn::GetAtt': return this.getAtt(...(Array.isArray(arg) ? (arg as [string, string]) : (String(arg).split('.') as [string, string])));
        case 'Fn::ImportValue': return this.importValue(String(this.resolve(arg)));
        case 'Fn::Join': { const [sep, parts] = arg as [string, unknown[]]; return (this.resolve(parts) as unknown[]).join(sep); }
        case 'Fn::Select': { const [i, list] = arg as [number, unknown]; return (this.resolve(list) as unknown[])[Number(this.resolve(i))]; }
        case 'Fn::Split': { const [sep, s] = arg as [string, unknown]; return String(this.resolve(s)).split(sep); }
        case 'Fn::Sub': return this.sub(arg);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  private pseudo(name: string): string | undefined {
    return ({ 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::Partition': 'aws', 'AWS::StackName': this.stack.stackName, 'AWS::URLSuffix': 'amazonaws.com' } as Record<string, string>)[name];
  }

  private ref(name: string): string {
    const value = this.pseudo(name) ?? this.physical.get(name)?.ref;
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
      if (name in vars) return String(this.resolve(vars[name]));
      if (name.includes('.')) return this.getAtt(...(name.split('.') as [string, string]));
      return this.ref(name);
    });
  }
}
