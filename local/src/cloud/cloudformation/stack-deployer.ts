import { CloudError } from '../errors';
import type { CloudParts, Props, ResourceContext, ResourceProvider } from '../providers/provider';
import { encryptedStore } from '../iam/keys';
import { notCreatedResources, recordedNotices } from '../providers/recorded';
import { conditionValues } from './conditions';
import { stackParameters } from './parameters';
import { deployOrder, type Physical, Resolver, type Stack } from './template';

/** The framework's own resources: the code already is local, so its deployment bucket is never created. */
const FRAMEWORK_INTERNALS = new Set(['ServerlessDeploymentBucket']);

interface Created {
  provider: ResourceProvider;
  ctx: ResourceContext;
  physical: Physical;
}

/**
 * Deploys stacks as CloudFormation would: each resource in dependency order, by the provider of its type, then the
 * stack's exports. A stack deployed again first has its providers undo what they started for it.
 */
export class StackDeployer {
  /** CloudFormation export name -> resolved value. */
  readonly exports: Record<string, string> = {};
  private readonly exportedBy = new Map<string, string>();
  private readonly created = new Map<string, Created[]>();

  constructor(
    private readonly cloud: CloudParts,
    private readonly providerFor: (type: string) => ResourceProvider,
    /** Template parameter values by name (parameters.ts). */
    private readonly parameters?: Record<string, string>,
  ) {}

  /** ListExports' answer (list-exports.ts). */
  exportList() {
    return Object.entries(this.exports).map(([name, value]) => ({ name, value, stackName: this.exportedBy.get(name)! }));
  }

  async deploy(stack: Stack): Promise<void> {
    for (const previous of (this.created.get(stack.stackName) ?? []).reverse()) await previous.provider.delete?.({ ...previous.ctx, physical: previous.physical });
    const created: Created[] = [];
    this.created.set(stack.stackName, created);
    const physical = new Map<string, Physical>();
    const resolver = new Resolver(stack, physical, this.exports, stackParameters(stack, this.parameters));
    const conditions = conditionValues(stack.template, resolver, stack.stackName);
    for (const id of deployOrder(stack.template)) {
      const resource = stack.template.Resources[id]!;
      if (resource.Condition !== undefined && !conditions.get(resource.Condition)) {
        if (!conditions.has(resource.Condition)) throw new CloudError(`${stack.stackName}: ${id} names condition ${resource.Condition}, which the template does not declare`);
        continue;
      }
      const provider = FRAMEWORK_INTERNALS.has(id) ? notCreatedResources : this.providerFor(resource.Type);
      const ctx: ResourceContext = { cloud: this.cloud, stack, logicalId: id, resource, resolver, props: () => resolver.resolve(resource.Properties ?? {}) as Props };
      // An emulator refusing a resource is a deploy failure like CloudFormation's: one line naming the resource.
      const made = await provider.create(ctx).catch((e: Error) => {
        throw e instanceof CloudError ? e : new CloudError(`${stack.stackName}: could not create ${id} (${resource.Type}): ${e.message}`, { cause: e });
      });
      created.push({ provider, ctx, physical: made });
      physical.set(id, made);
      // Whatever its provider, a store under a customer managed key has its key checked on every request (iam/keys.ts).
      const encrypted = encryptedStore(resource.Type, ctx.props, made);
      if (encrypted) this.cloud.iam.keys.encrypt(`${stack.stackName}: ${id}`, encrypted.store, encrypted.key);
    }
    for (const notice of recordedNotices(stack.stackName, stack.template)) this.cloud.log(notice);
    for (const output of Object.values(stack.template.Outputs ?? {})) {
      if (!output.Export) continue;
      const name = String(resolver.resolve(output.Export.Name));
      const owner = this.exportedBy.get(name);
      if (owner && owner !== stack.stackName) throw new CloudError(`${stack.stackName} exports ${name}, which ${owner} already exports`);
      this.exports[name] = String(resolver.resolve(output.Value));
      this.exportedBy.set(name, stack.stackName);
    }
  }
}
