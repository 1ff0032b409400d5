import { CloudError } from '../errors';
import { ACCOUNT, REGION } from '../account';
import type { Physical, Resolver, Resource, Template } from '../cloudformation/template';
import type { ResourceProvider } from './provider';

type Props = Record<string, unknown>;

/**
 * Resources the local cloud records without creating: AWS acts on them (alarms are evaluated, dashboards drawn) while
 * nothing here could. Their properties are still resolved, so what they name must exist; `recordedNotices` says at
 * deploy what is not evaluated (docs/local-cloud.md).
 */
export const RECORDED_RESOURCES = new Set(['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard']);

/** What Ref and Fn::GetAtt answer for a recorded resource; `props` are resolved. */
export function recordResource(stackName: string, logicalId: string, type: string, props: Props): Physical {
  if (type === 'AWS::CloudWatch::Alarm') {
    const name = String(props.AlarmName ?? `${stackName}-${logicalId}`);
    return { ref: name, attributes: { Arn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}` } };
  }
  const name = String(props.DashboardName ?? `${stackName}-${logicalId}`);
  // CloudFormation refuses a body that is not JSON; so does the local cloud.
  try {
    JSON.parse(String(props.DashboardBody));
  } catch (e) {
    throw new CloudError(`${stackName}: dashboard ${logicalId} has a DashboardBody that is not JSON (${(e as Error).message})`, { cause: e });
  }
  return { ref: name, attributes: {} };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line per kind of thing a stack declares that AWS would act on and the local cloud does not. */
export function recordedNotices(stackName: string, template: Template): string[] {
  const resources = Object.entries(template.Resources);
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const notices: string[] = [];
  const alarms = ofType('AWS::CloudWatch::Alarm').length;
  if (alarms) notices.push(`${stackName}: ${plural(alarms, 'CloudWatch alarm')} recorded, not evaluated: no CloudWatch locally`);
  const dashboards = ofType('AWS::CloudWatch::Dashboard').length;
  if (dashboards) notices.push(`${stackName}: ${plural(dashboards, 'CloudWatch dashboard')} recorded, not drawn: no CloudWatch locally`);
  const traced = ofType('AWS::Lambda::Function').filter(([, r]) => (r.Properties?.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active').length;
  if (traced) notices.push(`${stackName}: X-Ray tracing (Active) of ${plural(traced, 'function')} recorded, not applied: no X-Ray locally`);
  const flowLogs = ofType('AWS::EC2::FlowLog').length;
  if (flowLogs) notices.push(`${stackName}: ${plural(flowLogs, 'VPC flow log')} recorded, not written: functions talk over loopback`);
  const keys = ofType('AWS::KMS::Key').length;
  if (keys) notices.push(`${stackName}: ${plural(keys, 'KMS key')} checked, not applied: functions' use of them is checked, the emulators keep data unencrypted, rotation has no local effect`);
  const retained = ofType('AWS::Logs::LogGroup').filter(([, r]) => r.Properties?.RetentionInDays !== undefined);
  if (retained.length) {
    const days = [...new Set(retained.map(([, r]) => JSON.stringify(r.Properties!.RetentionInDays)))].join(', ');
    notices.push(`${stackName}: log retention (${days} days) of ${plural(retained.length, 'log group')} recorded, not applied: logs go to the CLI`);
  }
  for (const [id, r] of ofType('AWS::S3::Bucket')) {
    const rules = (r.Properties?.LifecycleConfiguration as { Rules?: Array<{ Id?: string }> } | undefined)?.Rules;
    if (rules?.length) notices.push(`${stackName}: ${id} lifecycle rules (${rules.map((rule) => rule.Id ?? '?').join(', ')}) recorded, not applied: s3rver keeps every object`);
    if ((r.Properties?.VersioningConfiguration as { Status?: string } | undefined)?.Status === 'Enabled')
      notices.push(`${stackName}: ${id} versioning recorded, not applied: s3rver keeps the current version only`);
    if (r.Properties?.LoggingConfiguration) notices.push(`${stackName}: ${id} server access logging recorded, not applied: s3rver writes no access logs`);
  }
  return notices;
}

/** Alarms and dashboards: recorded, their properties resolved. */
export const recorded: ResourceProvider = {
  types: [...RECORDED_RESOURCES],
  create: async (ctx) => recordResource(ctx.stack.stackName, ctx.logicalId, ctx.resource.Type, ctx.props()),
};

/** Every type no provider takes (IAM policies, log groups, permissions...): not created, only named. */
export const notCreatedResources: ResourceProvider = {
  types: [],
  create: async (ctx) => notCreated(ctx.logicalId, ctx.resource, ctx.resolver, ctx.stack.stackName),
};

/**
 * What a resource the local cloud does not create (IAM, log groups, permissions, the deployment bucket...) answers
 * to Ref and Fn::GetAtt, so that outputs and properties naming it still resolve: its name, and its ARN where
 * it has a well-known shape.
 */
export function notCreated(logicalId: string, resource: Resource, resolver: Resolver, stackName: string): Physical {
  const named = (property: string) => {
    const value = resource.Properties?.[property];
    return value === undefined ? undefined : String(resolver.resolve(value));
  };
  switch (resource.Type) {
    case 'AWS::IAM::Role': {
      const name = named('RoleName') ?? `${stackName}-${logicalId}`;
      return { ref: name, attributes: { Arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, RoleId: name } };
    }
    case 'AWS::Logs::LogGroup': {
      const name = named('LogGroupName') ?? `${stackName}-${logicalId}`;
      return { ref: name, attributes: { Arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*` } };
    }
    case 'AWS::S3::Bucket':
      return { ref: `${stackName}-${logicalId}`.toLowerCase(), attributes: {} };
    default:
      return { ref: `${stackName}-${logicalId}`, attributes: {} };
  }
}
