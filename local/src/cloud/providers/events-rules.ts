import { ACCOUNT, REGION } from '../account';
import { CloudError } from '../errors';
import { parseSchedule } from '../event-sources/schedule-expression';
import { functionName, ownerOf, type Props, type ResourceProvider } from './provider';

/** What a scheduled rule may say; an event pattern, a bus, input paths, retry and dead-letter settings are refused. */
const RULE_PROPERTIES = new Set(['Name', 'Description', 'ScheduleExpression', 'State', 'Targets']);
const TARGET_PROPERTIES = new Set(['Arn', 'Id', 'Input']);

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
    const unknown = Object.keys(p).filter((k) => !RULE_PROPERTIES.has(k));
    if (unknown.length) throw new CloudError(`${where}: ${unknown.join(', ')} not emulated by the local cloud (scheduled rules only)`);
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
  const unknown = Object.keys(t).filter((k) => !TARGET_PROPERTIES.has(k));
  if (unknown.length) throw new CloudError(`${where}: target ${String(t.Id)}: ${unknown.join(', ')} not emulated by the local cloud`);
  if (!String(t.Arn).startsWith('arn:aws:lambda:')) throw new CloudError(`${where}: target ${String(t.Id)}: only Lambda functions are emulated as targets`);
  return { functionName: functionName(String(t.Arn)), ...(t.Input === undefined ? {} : { input: JSON.parse(String(t.Input)) as unknown }) };
}
