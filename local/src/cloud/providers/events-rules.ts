import { ACCOUNT, REGION } from '../account';
import { type PropertySupport, refuseUnlisted } from '../cloudformation/property-support';
import { CloudError } from '../errors';
import { parseSchedule } from '../event-sources/schedule-expression';
import { functionName, ownerOf, type Props, type ResourceProvider } from './provider';

/** What a scheduled rule may say; an event pattern, a bus, input paths, retry and dead-letter settings are refused. */
export const RULE_PROPERTIES: PropertySupport = { honoured: ['Name', 'ScheduleExpression', 'State', 'Targets'], withoutEffect: ['Description'] };
const TARGET_PROPERTIES: PropertySupport = { honoured: ['Arn', 'Id', 'Input'], withoutEffect: [] };

/**
 * Events rules with a `ScheduleExpression` (osls's `events: - schedule:` of a function): an enabled rule invokes its
 * function targets at every firing of its schedule, in UTC, on the local clock (event-sources/scheduled-rules.ts).
 * What it could not honour is refused at deploy, naming the rule and the property.
 */
export const eventsRules: ResourceProvider = {
  types: ['AWS::Events::Rule'],
  async create(ctx) {
    const { stack, logicalId } = ctx;
    const where = `${stack.stackName}: events rule ${logicalId}`;
    const p = ctx.props();
    refuseUnlisted(p, RULE_PROPERTIES);
    if (typeof p.ScheduleExpression !== 'string') throw new CloudError(`${where}: no ScheduleExpression; the local cloud runs scheduled rules only`);
    let schedule: ReturnType<typeof parseSchedule>;
    try {
      schedule = parseSchedule(p.ScheduleExpression, ctx.cloud.clock.now());
    } catch (e) {
      throw new CloudError(`${where}: ScheduleExpression ${(e as Error).message}`, { cause: e });
    }
    const name = String(p.Name ?? `${stack.stackName}-${logicalId}`.slice(0, 64));
    const ruleArn = `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`;
    const targets = ((p.Targets ?? []) as Props[]).map((t) => target(where, t));
    if (p.State === undefined || p.State === 'ENABLED') ctx.cloud.eventSources.schedule(ownerOf(ctx), { ruleArn, schedule, targets });
    return { ref: name, attributes: { Arn: ruleArn } };
  },
  delete: (ctx) => ctx.cloud.eventSources.remove(ownerOf(ctx)),
};

function target(where: string, t: Props): { functionName: string; input?: unknown } {
  refuseUnlisted(t, TARGET_PROPERTIES);
  if (!String(t.Arn).startsWith('arn:aws:lambda:')) throw new CloudError(`${where}: target ${String(t.Id)}: only Lambda functions are emulated as targets`);
  return { functionName: functionName(String(t.Arn)), ...(t.Input === undefined ? {} : { input: JSON.parse(String(t.Input)) as unknown }) };
}
