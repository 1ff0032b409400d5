import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { CloudError } from '../errors';
import { loadStack, type Stack } from './template';

/** A service of serverless-compose.yml: its name there, its path and the services its `dependsOn` names. */
export interface ComposedService {
  name: string;
  path: string;
  dependsOn: string[];
}

/** A composed service's packaged stack. */
export type ComposedStack = Stack & { composeName: string; dependsOn: string[] };

/** The services of serverless-compose.yml in an order that deploys each after what it depends on. */
export function readCompose(root: string): ComposedService[] {
  const composeFile = join(root, 'serverless-compose.yml');
  if (!existsSync(composeFile)) throw new CloudError(`no serverless-compose.yml in ${root}: run from the repository root`);
  let compose: { services?: Record<string, { path: string; dependsOn?: string[] }> } | undefined;
  try {
    compose = yaml.load(readFileSync(composeFile, 'utf8')) as typeof compose;
  } catch (error) {
    throw new CloudError(`${composeFile} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  const services = compose?.services ?? {};
  const order: string[] = [];
  const visit = (name: string, trail: string[]) => {
    if (order.includes(name)) return;
    if (trail.includes(name)) throw new CloudError(`serverless-compose.yml has a dependency cycle: ${[...trail, name].join(' -> ')}`);
    if (!services[name]) throw new CloudError(`serverless-compose.yml: ${trail.at(-1)} depends on ${name}, which it does not define`);
    for (const dep of services[name].dependsOn ?? []) visit(dep, [...trail, name]);
    order.push(name);
  };
  for (const name of Object.keys(services)) visit(name, []);
  return order.map((name) => ({ name, path: services[name]!.path, dependsOn: services[name]!.dependsOn ?? [] }));
}

/**
 * Every composed service's packaged stack, in dependency order. Refused here rather than raced at deploy: a stack
 * importing an export of a stack it does not depend on (directly or not), since the two may deploy at once.
 */
export function loadComposedStacks(root: string): ComposedStack[] {
  const stacks = readCompose(root).map((s) => ({ ...loadStack(resolve(root, s.path)), composeName: s.name, dependsOn: s.dependsOn }));
  checkImports(stacks);
  return stacks;
}

/** Throws when a stack imports an export of a composed stack that is not among its (transitive) dependencies. */
export function checkImports(stacks: ComposedStack[]): void {
  const byName = new Map(stacks.map((s) => [s.composeName, s]));
  const exporter = new Map<string, ComposedStack>();
  for (const s of stacks) for (const name of exportNames(s)) exporter.set(name, s);
  const upstream = (s: ComposedStack, seen = new Set<string>()): Set<string> => {
    for (const dep of s.dependsOn) if (!seen.has(dep)) upstream(byName.get(dep)!, seen.add(dep));
    return seen;
  };
  for (const s of stacks) {
    const deps = upstream(s);
    for (const name of importNames(s.template)) {
      const owner = exporter.get(name);
      if (!owner || owner === s || deps.has(owner.composeName)) continue;
      throw new CloudError(
        `${s.stackName} imports ${name}, which ${owner.stackName} exports, but serverless-compose.yml does not make ${s.composeName} depend on ${owner.composeName}: add it to ${s.composeName}'s dependsOn (the two would deploy at once)`,
      );
    }
  }
}

/**
 * Deploys every stack once all it depends on is deployed, as osls compose does: independent stacks deploy at once.
 * After a failure no further stack starts; the promise rejects with the first error once those running settle, so
 * the caller can stop the cloud with nothing still deploying.
 */
export function deployInDependencyOrder<S extends { composeName: string; dependsOn: string[] }>(stacks: S[], deploy: (stack: S) => Promise<void>): Promise<void> {
  const done = new Set<string>();
  const started = new Set<string>();
  let running = 0;
  let failure: { error: unknown } | undefined;
  return new Promise((resolvePromise, reject) => {
    const next = () => {
      for (const s of failure ? [] : stacks) {
        if (started.has(s.composeName) || !s.dependsOn.every((d) => done.has(d))) continue;
        started.add(s.composeName);
        running++;
        void run(s);
      }
      if (running) return;
      if (failure) reject(failure.error);
      else if (started.size < stacks.length)
        reject(
          new CloudError(
            `these stacks depend on stacks never deployed: ${stacks
              .filter((s) => !started.has(s.composeName))
              .map((s) => s.composeName)
              .join(', ')}`,
          ),
        );
      else resolvePromise();
    };
    const run = async (s: S) => {
      try {
        await deploy(s);
        done.add(s.composeName);
      } catch (error) {
        failure ??= { error };
      }
      running--;
      next();
    };
    next();
  });
}

const exportNames = (s: Stack): string[] => Object.values(s.template.Outputs ?? {}).flatMap((o) => (typeof o.Export?.Name === 'string' ? [o.Export.Name] : []));

/** The export names a template imports literally (as packaged, serverless has resolved them to strings). */
function importNames(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(importNames);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, arg]) => (key === 'Fn::ImportValue' && typeof arg === 'string' ? [arg] : importNames(arg)));
}
