import { type PropertySupport, refuseUnlisted, UnsupportedProperty } from '../cloudformation/property-support';

/**
 * A function as the local cloud runs it: from its zip package, with its handler, runtime, role, timeout, memory,
 * environment and reserved concurrency. Tags, descriptions, architecture (the code runs on this machine's), tracing
 * (recorded), VPC placement (loopback reaches everything) and the environment's key have no effect here. Everything
 * else changes what the function does on AWS (DeadLetterConfig, Layers, SnapStart, LoggingConfig, file systems…), so
 * it is refused at deploy.
 */
export const FUNCTION_PROPERTIES: PropertySupport = {
  honoured: ['FunctionName', 'Handler', 'Runtime', 'Code', 'Role', 'Timeout', 'MemorySize', 'Environment', 'ReservedConcurrentExecutions', 'PackageType'],
  withoutEffect: ['Description', 'Tags', 'Architectures', 'TracingConfig', 'VpcConfig', 'KmsKeyArn'],
};

/** A published version: only a name for the function's code (`$LATEST` runs); provisioned concurrency is refused. */
export const VERSION_PROPERTIES: PropertySupport = { honoured: ['FunctionName'], withoutEffect: ['Description', 'CodeSha256'] };

/** Refuses what the local cloud cannot do of an AWS::Lambda::Function, naming the property. */
export function checkFunctionProperties(props: Record<string, unknown>): void {
  refuseUnlisted(props, FUNCTION_PROPERTIES);
  if (props.PackageType !== undefined && props.PackageType !== 'Zip') throw new UnsupportedProperty(`PackageType ${String(props.PackageType)}: the local cloud runs zip packages only`);
}
