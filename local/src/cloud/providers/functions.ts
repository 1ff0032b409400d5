import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ACCOUNT, arn } from '../account';
import { artifactOf } from '../cloudformation/template';
import { CloudError } from '../errors';
import { eventInvokeConfig } from '../event-sources/mapping-config';
import { roleStatements } from '../iam/proxy';
import { reservedKeys } from '../lambda/function-environment';
import { checkFunctionProperties, VERSION_PROPERTIES } from '../lambda/function-properties';
import { refuseUnlisted } from '../cloudformation/property-support';
import { declaredNode, nodeMajor } from '../lambda/node-binary';
import { removeBundle, unzip } from '../lambda/unzip';
import type { Physical } from '../cloudformation/template';
import { type CloudParts, functionName, type Props, type ResourceContext, type ResourceProvider } from './provider';
import { notCreated } from './recorded';

/**
 * Functions, their versions and their asynchronous invocation configs. A function's package is unzipped into its own
 * directory, as Lambda does into /var/task, and its AWS calls go through a proxy that holds them to its role.
 */
export const functions: ResourceProvider = {
  types: ['AWS::Lambda::Function', 'AWS::Lambda::Version', 'AWS::Lambda::EventInvokeConfig'],
  async create(ctx) {
    switch (ctx.resource.Type) {
      case 'AWS::Lambda::Function':
        return deployFunction(ctx);
      case 'AWS::Lambda::Version': {
        refuseUnlisted(ctx.resource.Properties ?? {}, VERSION_PROPERTIES);
        const fnArn = arn.function(functionName(String(ctx.resolver.resolve(ctx.resource.Properties!.FunctionName))));
        return { ref: `${fnArn}:1`, attributes: { Version: '1', FunctionArn: fnArn } };
      }
      default: {
        const p = ctx.props();
        ctx.cloud.eventSources.configureAsync(functionName(String(p.FunctionName)), eventInvokeConfig(p, ctx.cloud.eventSources.queueUrl));
        return notCreated(ctx.logicalId, ctx.resource, ctx.resolver, ctx.stack.stackName);
      }
    }
  },
  async delete(ctx) {
    if (ctx.resource.Type === 'AWS::Lambda::Function') await ctx.cloud.iam.stopProxy(ctx.physical.ref);
  },
};

async function deployFunction(ctx: ResourceContext): Promise<Physical> {
  const { cloud, stack, logicalId, resolver } = ctx;
  checkFunctionProperties(ctx.resource.Properties ?? {});
  const { FunctionName, Handler, Timeout, MemorySize, Environment, Code, Runtime: declared, VpcConfig, ReservedConcurrentExecutions } = ctx.resource.Properties!;
  // VpcConfig has no effect on loopback, but resolving it proves its subnets and security groups exist.
  const p = resolver.resolve({ FunctionName, Handler, Timeout, MemorySize, Environment, Code, VpcConfig, ReservedConcurrentExecutions }) as Props;
  const name = String(p.FunctionName ?? `${stack.stackName}-${logicalId}`);
  tellRuntime(cloud, String(declared ?? ''));
  const s3Key = (p.Code as { S3Key?: string } | undefined)?.S3Key;
  if (!s3Key) throw new CloudError(`${stack.stackName}: function ${name} has no packaged code (Code.S3Key); the local cloud runs only zip packages`);
  const variables = (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  const reserved = reservedKeys(variables);
  if (reserved.length) throw new CloudError(`${stack.stackName}: function ${name} sets ${reserved.join(', ')} in Environment.Variables, which Lambda reserves`);
  const dir = join(cloud.emulators.dataDir, 'functions', name);
  removeBundle(dir);
  mkdirSync(dir, { recursive: true });
  await unzip(artifactOf(stack, s3Key), dir);
  const proxied = await roleProxy(ctx, name);
  cloud.runtime.add({
    name,
    service: stack.service,
    dir,
    handler: String(p.Handler),
    // The local endpoints and database win over whatever the template says.
    env: { ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])), ...cloud.emulators.env, ...proxied },
    timeoutSeconds: Number(p.Timeout ?? 3),
    memoryMb: Number(p.MemorySize ?? 128),
    runtime: String(declared ?? 'nodejs24.x'),
    reservedConcurrency: ReservedConcurrentExecutions === undefined ? undefined : Number(p.ReservedConcurrentExecutions),
  });
  return { ref: name, attributes: { Arn: arn.function(name) } };
}

/** Functions run on the Node they declare when it is installed (node-binary.ts), else on this one: say so once. */
function tellRuntime(cloud: CloudParts, declared: string): void {
  const major = nodeMajor(declared);
  if (!major && declared) throw new CloudError(`runtime ${declared}: the local cloud runs Node.js functions only`);
  if (!major || declaredNode(declared)) return;
  cloud.notice(`the templates declare ${declared}, whose Node is not installed (node-linux-${process.arch}@${major}); the local cloud runs that code on Node ${process.versions.node}`);
}

/**
 * The function's IAM proxy, when its role is one of the stack's own (an outside role's policies are unknown here):
 * the endpoint variables that send its calls through the proxy, or none, and the function stops having a proxy.
 */
async function roleProxy({ cloud, stack, resource, resolver }: ResourceContext, name: string): Promise<Record<string, string>> {
  const roleId = (resource.Properties!.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  const roleResource = roleId ? stack.template.Resources[roleId] : undefined;
  if (roleResource?.Type !== 'AWS::IAM::Role') {
    await cloud.iam.stopProxy(name);
    return {};
  }
  const statements = roleStatements(resolver.resolve(roleResource.Properties ?? {}) as Props);
  // The session AWS would give the function: its role's name, so bucket policies see the role's ARN (aws:PrincipalArn).
  const roleName = String(resolver.resolve(resource.Properties!.Role)).split('/').pop()!;
  return cloud.iam.proxyFunction(name, `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${name}`, statements);
}
