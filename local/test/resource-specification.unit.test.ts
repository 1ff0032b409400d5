import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PropertySupport, UnsupportedProperty } from '../src/cloud/cloudformation/property-support';
import { EVENT_INVOKE_PROPERTIES, eventInvokeConfig, MAPPING_PROPERTIES, streamMappingConfig } from '../src/cloud/event-sources/mapping-config';
import { checkFunctionProperties, FUNCTION_PROPERTIES, VERSION_PROPERTIES } from '../src/cloud/lambda/function-properties';
import { refuseUnlisted } from '../src/cloud/cloudformation/property-support';
import { RULE_PROPERTIES } from '../src/cloud/providers/events-rules';
import { SUBSCRIPTION_PROPERTIES, TOPIC_PROPERTIES } from '../src/cloud/providers/sns';

/**
 * CloudFormation's own resource schemas, as cfn-lint ships them (installed on every machine here, CI's included, for
 * `npm run lint:templates`): `providers/<region>.py` maps a type to its schema file under `resources/`.
 */
const SCHEMAS = join(execFileSync('python3', ['-c', 'import cfnlint, os; print(os.path.dirname(cfnlint.__file__))'], { encoding: 'utf8' }).trim(), 'data', 'schemas');
const REGION_TYPES = readFileSync(join(SCHEMAS, 'providers', 'eu_central_1.py'), 'utf8');

/** The properties a template may set on the type (its schema's properties but the read-only ones). */
function writableProperties(type: string): string[] {
  const file = new RegExp(`"${type}": "([0-9a-f]+)"`).exec(REGION_TYPES)?.[1];
  if (!file) throw new Error(`${type} is not in cfn-lint's schemas for eu-central-1`);
  const schema = JSON.parse(readFileSync(join(SCHEMAS, 'resources', `${file}.json`), 'utf8')) as { properties: Record<string, unknown>; readOnlyProperties?: string[] };
  const readOnly = new Set((schema.readOnlyProperties ?? []).map((p) => p.replace('/properties/', '')));
  return Object.keys(schema.properties).filter((p) => !readOnly.has(p));
}

const noQueues = () => undefined;
/** Each type whose properties the local cloud lists, and its deploy-time check with a minimal resource. */
const TYPES: Array<[string, PropertySupport, (extra: Record<string, unknown>) => unknown]> = [
  ['AWS::Lambda::Function', FUNCTION_PROPERTIES, (extra) => checkFunctionProperties({ FunctionName: 'fn', Handler: 'index.handler', ...extra })],
  ['AWS::Lambda::Version', VERSION_PROPERTIES, (extra) => refuseUnlisted({ FunctionName: 'fn', ...extra }, VERSION_PROPERTIES)],
  [
    'AWS::Lambda::EventSourceMapping',
    MAPPING_PROPERTIES,
    (extra) => streamMappingConfig({ EventSourceArn: 'arn:aws:kinesis:eu-central-1:000000000000:stream/s', FunctionName: 'fn', ...extra }, noQueues),
  ],
  ['AWS::Lambda::EventInvokeConfig', EVENT_INVOKE_PROPERTIES, (extra) => eventInvokeConfig({ FunctionName: 'fn', Qualifier: '$LATEST', ...extra }, noQueues)],
  ['AWS::SNS::Topic', TOPIC_PROPERTIES, (extra) => refuseUnlisted({ TopicName: 't', ...extra }, TOPIC_PROPERTIES)],
  ['AWS::SNS::Subscription', SUBSCRIPTION_PROPERTIES, (extra) => refuseUnlisted({ TopicArn: 'arn', Protocol: 'sqs', Endpoint: 'q', ...extra }, SUBSCRIPTION_PROPERTIES)],
  ['AWS::Events::Rule', RULE_PROPERTIES, (extra) => refuseUnlisted({ ScheduleExpression: 'rate(1 hour)', ...extra }, RULE_PROPERTIES)],
];

describe.each(TYPES)('%s against CloudFormation’s resource schema', (type, support, deploy) => {
  const writable = writableProperties(type);

  it('lists only properties AWS documents for the type', () => {
    expect([...support.honoured, ...support.withoutEffect].filter((p) => !writable.includes(p))).toEqual([]);
  });

  it('refuses at deploy, naming it, every other property AWS documents, whatever its value', () => {
    const others = writable.filter((p) => !support.honoured.includes(p) && !support.withoutEffect.includes(p));
    for (const property of others) {
      for (const value of [{}, 'x', 1, []]) {
        let refused: unknown;
        try {
          deploy({ [property]: value });
        } catch (error) {
          refused = error;
        }
        expect(refused).toBeInstanceOf(UnsupportedProperty);
        expect((refused as Error).message).toBe(`${property} is not emulated by the local cloud`);
      }
    }
  });
});

it('refuses a function packaged as a container image', () => {
  expect(() => checkFunctionProperties({ PackageType: 'Image' })).toThrow(new UnsupportedProperty('PackageType Image: the local cloud runs zip packages only'));
  expect(() => checkFunctionProperties({ PackageType: 'Zip' })).not.toThrow();
});
