import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { type PropertySupport, refuseUnlisted } from '../cloudformation/property-support';
import { CloudError } from '../errors';
import type { Physical } from '../cloudformation/template';
import type { ResourceProvider } from './provider';

type Props = Record<string, unknown>;

/** The SNS resources the local cloud creates, on fauxqs. */
export const SNS_RESOURCES = new Set(['AWS::SNS::Topic', 'AWS::SNS::Subscription']);

/** Topic properties fauxqs keeps as attributes. */
const TOPIC_ATTRIBUTES = ['DisplayName', 'FifoTopic', 'ContentBasedDeduplication'];
/** A topic's KmsMasterKeyId is held to on every request (iam/keys.ts). */
export const TOPIC_PROPERTIES: PropertySupport = { honoured: [...TOPIC_ATTRIBUTES, 'TopicName', 'KmsMasterKeyId', 'Subscription'], withoutEffect: ['Tags'] };
const SUBSCRIPTION_ATTRIBUTES = ['RawMessageDelivery', 'FilterPolicy', 'FilterPolicyScope'];
export const SUBSCRIPTION_PROPERTIES: PropertySupport = { honoured: [...SUBSCRIPTION_ATTRIBUTES, 'TopicArn', 'Protocol', 'Endpoint'], withoutEffect: [] };

/**
 * Locally, SNS delivers to SQS queues only: e-mail, HTTP, Lambda, SMS and the rest would be accepted by AWS and
 * then never delivered here, so they are refused at deploy, naming the resource.
 */
export function checkProtocol(where: string, protocol: unknown): void {
  if (protocol !== 'sqs') throw new CloudError(`${where}: Protocol ${JSON.stringify(protocol)}; the local cloud's SNS delivers to SQS queues only (subscribe an SQS queue, or e-mail on AWS only)`);
}

const stringAttributes = (props: Props, names: string[]) =>
  Object.fromEntries(names.filter((a) => props[a] !== undefined).map((a) => [a, typeof props[a] === 'object' ? JSON.stringify(props[a]) : String(props[a])]));

/** Creates a topic (idempotently: CreateTopic returns an existing one) or a subscription; `props` are resolved. */
export async function createSnsResource(where: string, type: string, props: Props, generatedName: string, sns: SNSClient): Promise<Physical> {
  if (type === 'AWS::SNS::Topic') {
    refuseUnlisted(props, TOPIC_PROPERTIES);
    const inline = (props.Subscription ?? []) as Array<{ Protocol?: unknown; Endpoint?: unknown }>;
    for (const s of inline) checkProtocol(`${where} Subscription`, s.Protocol);
    const name = String(props.TopicName ?? (props.FifoTopic ? `${generatedName}.fifo` : generatedName));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name, Attributes: stringAttributes(props, TOPIC_ATTRIBUTES) }));
    for (const s of inline) await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: String(s.Endpoint) }));
    return { ref: TopicArn!, attributes: { TopicArn: TopicArn!, TopicName: name } };
  }
  refuseUnlisted(props, SUBSCRIPTION_PROPERTIES);
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
