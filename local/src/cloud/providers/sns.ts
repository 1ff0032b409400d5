import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CloudError } from '../errors';
import type { Physical } from '../cloudformation/template';
import type { ResourceProvider } from './provider';

type Props = Record<string, unknown>;

/** The SNS resources the local cloud creates, on fauxqs. */
export const SNS_RESOURCES = new Set(['AWS::SNS::Topic', 'AWS::SNS::Subscription']);

/** Topic properties fauxqs keeps as attributes; KmsMasterKeyId is encryption at rest, which has no local meaning. */
const TOPIC_ATTRIBUTES = ['DisplayName', 'FifoTopic', 'ContentBasedDeduplication'];
const TOPIC_PROPERTIES = new Set([...TOPIC_ATTRIBUTES, 'TopicName', 'KmsMasterKeyId', 'Subscription', 'Tags']);
const SUBSCRIPTION_ATTRIBUTES = ['RawMessageDelivery', 'FilterPolicy', 'FilterPolicyScope'];
const SUBSCRIPTION_PROPERTIES = new Set([...SUBSCRIPTION_ATTRIBUTES, 'TopicArn', 'Protocol', 'Endpoint']);

/**
 * Locally, SNS delivers to SQS queues only: e-mail, HTTP, Lambda, SMS and the rest would be accepted by AWS and
 * then never delivered here, so they are refused at deploy, naming the resource.
 */
export function checkProtocol(where: string, protocol: unknown): void {
  if (protocol !== 'sqs') throw new CloudError(`${where}: Protocol ${JSON.stringify(protocol)}; the local cloud's SNS delivers to SQS queues only (subscribe an SQS queue, or e-mail on AWS only)`);
}

function checkProperties(where: string, props: Props, known: Set<string>): void {
  const unknown = Object.keys(props).filter((p) => !known.has(p));
  if (unknown.length) throw new CloudError(`${where}: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not emulated by the local cloud's SNS`);
}

const stringAttributes = (props: Props, names: string[]) =>
  Object.fromEntries(names.filter((a) => props[a] !== undefined).map((a) => [a, typeof props[a] === 'object' ? JSON.stringify(props[a]) : String(props[a])]));

/** Creates a topic (idempotently: CreateTopic returns an existing one) or a subscription; `props` are resolved. */
export async function createSnsResource(where: string, type: string, props: Props, generatedName: string, sns: SNSClient): Promise<Physical> {
  if (type === 'AWS::SNS::Topic') {
    checkProperties(where, props, TOPIC_PROPERTIES);
    const inline = (props.Subscription ?? []) as Array<{ Protocol?: unknown; Endpoint?: unknown }>;
    for (const s of inline) checkProtocol(`${where} Subscription`, s.Protocol);
    const name = String(props.TopicName ?? (props.FifoTopic ? `${generatedName}.fifo` : generatedName));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name, Attributes: stringAttributes(props, TOPIC_ATTRIBUTES) }));
    for (const s of inline) await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: String(s.Endpoint) }));
    return { ref: TopicArn!, attributes: { TopicArn: TopicArn!, TopicName: name } };
  }
  checkProperties(where, props, SUBSCRIPTION_PROPERTIES);
  checkProtocol(where, props.Protocol);
  const { SubscriptionArn } = await sns.send(
    new SubscribeCommand({ TopicArn: String(props.TopicArn), Protocol: 'sqs', Endpoint: String(props.Endpoint), Attributes: stringAttributes(props, SUBSCRIPTION_ATTRIBUTES) }),
  );
  return { ref: SubscriptionArn!, attributes: { Arn: SubscriptionArn! } };
}

export const sns: ResourceProvider = {
  types: [...SNS_RESOURCES],
  create: ({ cloud, stack, logicalId, resource, props }) =>
    createSnsResource(`${stack.stackName}: ${logicalId} (${resource.Type})`, resource.Type, props(), `${stack.stackName}-${logicalId}`, cloud.clients.sns),
};
