import type { LocalClock } from '../clock';
import type { Physical, Resolver, Resource, Stack } from '../cloudformation/template';
import type { Clients } from '../emulators/clients';
import type { Services } from '../emulators/services';
import type { EventSourceWiring } from '../event-sources/wiring';
import type { LocalIam } from '../iam/local-iam';
import type { Runtime } from '../lambda/runtime';
import type { CustomResources } from './custom-resources';
import type { LocalDatabaseResources } from './database';

export type Props = Record<string, unknown>;

/** The parts of one running local cloud that resources are created on; providers keep no state of their own. */
export interface CloudParts {
  emulators: Services;
  clients: Clients;
  runtime: Runtime;
  iam: LocalIam;
  eventSources: EventSourceWiring;
  database: LocalDatabaseResources;
  customResourceRequests: CustomResources;
  /** The time scheduled rules fire on, which `up --clock` and `dataharvest clock` set. */
  clock: LocalClock;
  log(line: string, functionName?: string): void;
  /** Logs a line the first time it is given, not again. */
  notice(line: string): void;
}

/** One resource of a stack being deployed, and the cloud it is deployed onto. */
export interface ResourceContext {
  cloud: CloudParts;
  stack: Stack;
  logicalId: string;
  resource: Resource;
  resolver: Resolver;
  /** The resource's properties, resolved against what the stack has created so far. */
  props(): Props;
}

/**
 * How the local cloud creates the resources of some CloudFormation types, as LocalStack's resource providers do:
 * `create` returns what Ref and Fn::GetAtt answer for the resource; `delete`, where there is one, stops what create
 * started when the stack is deployed again (its data stays, as an update keeps it). Adding a type is adding a
 * provider to registry.ts.
 */
export interface ResourceProvider {
  readonly types: readonly string[];
  create(ctx: ResourceContext): Promise<Physical>;
  delete?(ctx: ResourceContext & { physical: Physical }): Promise<void>;
}

/** The last part of a function's ARN (or its name, as templates may give either). */
export const functionName = (functionArnOrName: string) => functionArnOrName.split(':').pop()!;

/** `stack/logicalId`: what owns a poller or a notification rule, so deploying again replaces it. */
export const ownerOf = (ctx: Pick<ResourceContext, 'stack' | 'logicalId'>) => `${ctx.stack.stackName}/${ctx.logicalId}`;
