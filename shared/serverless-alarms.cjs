'use strict';
/**
 * A serverless plugin every service lists as `'@dataharvest/shared/serverless-alarms'` (osls loads a local plugin
 * only from inside the service directory; shared/package.json exports this one). Once the template is complete, it
 * adds a CloudWatch alarm for each function's Errors and Throttles, each on-failure queue's depth and each stream
 * mapping's IteratorAge, all notifying the alarm topic the metastore stack exports. Deriving them from the template
 * means a new function, queue or mapping is covered without a line of YAML. In the stack that defines the topic
 * (AlarmTopic, the metastore), it subscribes `custom.alarmEmail` when that is set.
 * Thresholds and why: docs/operations.md, "Alarms and metrics".
 */

/** Lambda retries a failed event or stream batch: one error that a retry recovers is not worth waking anyone. */
const ERRORS = { Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Sum' };
/** Throttled invocations are retried too: only throttling through 15 minutes means work is piling up. */
const THROTTLES = { Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Sum' };
/** A message in an on-failure queue is an event whose retries ran out: at once. */
const DEPTH = { Period: 60, EvaluationPeriods: 1, DatapointsToAlarm: 1, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum' };
/** A consumer more than 10 minutes behind for 5 minutes in a row is stuck or too slow, not catching up from a burst. */
const ITERATOR_AGE = { Period: 60, EvaluationPeriods: 5, DatapointsToAlarm: 5, Threshold: 600000, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum' };

class AlarmTemplateError extends Error {
  name = 'AlarmTemplateError';
}

class DataHarvestAlarms {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:aws:package:finalize:saveServiceState': () => this.addAlarms() };
  }

  addAlarms() {
    const service = this.serverless.service;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const stage = this.serverless.getProvider('aws').getStage();
    const topic = { 'Fn::ImportValue': `dataharvest-${stage}-alarm-topic-arn` };
    const alarms = {};
    const alarm = (id, name, description, namespace, metric, dimensions, settings) => {
      alarms[id] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: name,
          AlarmDescription: description,
          Namespace: namespace,
          MetricName: metric,
          Dimensions: dimensions,
          ...settings,
          // No data (an idle function, an empty queue) is healthy.
          TreatMissingData: 'notBreaching',
          AlarmActions: [topic],
          OKActions: [topic],
        },
      };
    };
    const functionIds = new Map();
    for (const key of service.getAllFunctions()) {
      const id = this.serverless.getProvider('aws').naming.getLambdaLogicalId(key);
      const name = service.getFunction(key).name;
      const base = id.replace(/LambdaFunction$/, '');
      functionIds.set(id, { name, base });
      const fn = [{ Name: 'FunctionName', Value: { Ref: id } }];
      alarm(`${base}ErrorsAlarm`, `${name}-errors`, `${name} failed in 2 of 3 five-minute periods`, 'AWS/Lambda', 'Errors', fn, ERRORS);
      alarm(`${base}ThrottlesAlarm`, `${name}-throttles`, `${name} was throttled through 15 minutes`, 'AWS/Lambda', 'Throttles', fn, THROTTLES);
    }
    const queues = new Set();
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::Lambda::EventSourceMapping' && r.Type !== 'AWS::Lambda::EventInvokeConfig') continue;
      const destination = r.Properties.DestinationConfig?.OnFailure?.Destination;
      if (destination) queues.add(this.queueOf(id, destination, resources));
      // Stream mappings (Kinesis, DynamoDB) have a starting position; queue mappings have no iterator.
      if (r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties.StartingPosition) {
        const fnId = r.Properties.FunctionName?.['Fn::GetAtt']?.[0];
        const fn = functionIds.get(fnId);
        if (!fn) throw new AlarmTemplateError(`${id}: its FunctionName is not a function of this service`);
        const dims = [{ Name: 'FunctionName', Value: { Ref: fnId } }];
        alarm(`${fn.base}IteratorAgeAlarm`, `${fn.name}-iterator-age`, `${fn.name} is more than 10 minutes behind its stream`, 'AWS/Lambda', 'IteratorAge', dims, ITERATOR_AGE);
      }
    }
    for (const q of queues) {
      const name = typeof resources[q].Properties?.QueueName === 'string' ? resources[q].Properties.QueueName : `${service.service}-${stage}-${q}`;
      const dims = [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [q, 'QueueName'] } }];
      alarm(`${q}DepthAlarm`, `${name}-depth`, `${name} holds events whose retries ran out (dataharvest failures)`, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', dims, DEPTH);
    }
    const email = service.custom?.alarmEmail;
    if (email && resources.AlarmTopic) {
      alarms.AlarmTopicEmailSubscription = { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: email } };
    }
    Object.assign(resources, alarms);
  }

  /** The on-failure queue a destination names: one of this stack's queues, so its depth can be watched. */
  queueOf(id, destination, resources) {
    const queue = destination['Fn::GetAtt']?.[0];
    if (resources[queue]?.Type !== 'AWS::SQS::Queue') throw new AlarmTemplateError(`${id}: its on-failure destination is not an SQS queue of this stack (Fn::GetAtt <Queue>.Arn)`);
    return queue;
  }
}

module.exports = DataHarvestAlarms;
