'use strict';
/**
 * A serverless plugin every stack lists as `'@dataharvest/shared/serverless-alarms'` (osls loads a local plugin
 * only from inside the service directory; shared/package.json exports this one). Once the template is complete, it
 * adds CloudWatch alarms for what the template holds: each function's Errors, Throttles and Duration near its
 * timeout; each on-failure queue's depth; each stream mapping's IteratorAge; each Kinesis stream's write throttling;
 * each table's replication to its Kinesis change feed; each Aurora cluster's capacity, CPU and memory; each RDS
 * Proxy's client connections and borrow latency; in the stack holding the topic, batches stuck in a stage. All notify
 * the alarm topic the metastore stack defines. Deriving them from the template means a new function, queue, stream
 * or mapping is covered without a line of YAML. In the stack that defines the topic (AlarmTopic), it subscribes `custom.alarmEmail`, and `serverless deploy` refuses to
 * deploy that stack without one: alarms nobody receives are no alarms.
 * Thresholds and why: docs/operations.md, "Alarms and metrics".
 */

/** Lambda retries a failed event or stream batch: one error that a retry recovers is not worth waking anyone. */
const ERRORS = { Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Sum' };
/** Throttled invocations are retried too: only throttling through 15 minutes means work is piling up. */
const THROTTLES = { Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Sum' };
/** An invocation past this share of its timeout is one slower input away from timing out (and being retried whole). */
const NEAR_TIMEOUT_SHARE = 0.8;
const NEAR_TIMEOUT = { Period: 300, EvaluationPeriods: 1, DatapointsToAlarm: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Maximum' };
/** A message in an on-failure queue is an event whose retries ran out: at once. */
const DEPTH = { Period: 60, EvaluationPeriods: 1, DatapointsToAlarm: 1, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum' };
/** A consumer more than 10 minutes behind for 5 minutes in a row is stuck or too slow, not catching up from a burst. */
const ITERATOR_AGE = { Period: 60, EvaluationPeriods: 5, DatapointsToAlarm: 5, Threshold: 600000, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum' };
/** Writers retry a throttled put; throttling through 15 minutes means the stream cannot keep up. */
const STREAM_THROTTLES = THROTTLES;
/** The change feed carries every transition: a change not replicated for 10 minutes stalls every service. */
const REPLICATION_AGE_MS = 600000;
const REPLICATION = { EvaluationPeriods: 5, DatapointsToAlarm: 5, ComparisonOperator: 'GreaterThanThreshold' };
/** Aurora Serverless v2 at its maximum capacity (ACUUtilization is a percentage of it) for 15 minutes: raise databaseMaxCapacity. */
const ACU_AT_MAX = { Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 95, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Average' };
const CPU = { Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 90, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Average' };
/** Serverless v2 reports the memory free at maximum capacity: under 1 GiB of it means the working set outgrows the cluster. */
const FREE_MEMORY = { Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 1073741824, ComparisonOperator: 'LessThanThreshold', Statistic: 'Minimum' };
/** Client connections above the budget of docs/deploy.md ("Connection budget") mean something connects outside it. */
const CLIENT_CONNECTIONS = { Period: 60, EvaluationPeriods: 5, DatapointsToAlarm: 3, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum' };
const DEFAULT_CONNECTION_BUDGET = 112;
/** Borrowing a pooled connection normally takes microseconds; 100 ms on average for 10 minutes means the pool is exhausted. */
const BORROW_LATENCY = { Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 100000, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Average' };

/** A batch over its stage's time: once is one too many (the delivery check reports a waiting batch every 5 minutes). */
const STUCK = { Period: 300, EvaluationPeriods: 1, DatapointsToAlarm: 1, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum' };

class AlarmTemplateError extends Error {
  name = 'AlarmTemplateError';
}

/** `serverless deploy` of the stack holding the alarm topic without anyone to notify. */
class NoAlarmDestination extends Error {
  name = 'NoAlarmDestination';
}

class DataHarvestAlarms {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:aws:package:finalize:saveServiceState': () => this.addAlarms(),
      'before:deploy:deploy': () => this.requireDestination(),
    };
  }

  requireDestination() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate?.Resources ?? {};
    if (resources.AlarmTopic && !this.serverless.service.custom?.alarmEmail)
      throw new NoAlarmDestination('the alarm topic would have no subscriber: deploy with DATAHARVEST_ALARM_EMAIL=<address> (docs/deploy.md, "Deploy")');
  }

  addAlarms() {
    const service = this.serverless.service;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const stage = this.serverless.getProvider('aws').getStage();
    // The stack that defines the topic cannot import its own export.
    const topic = resources.AlarmTopic ? { Ref: 'AlarmTopic' } : { 'Fn::ImportValue': `dataharvest-${stage}-alarm-topic-arn` };
    const alarms = {};
    const alarm = (id, name, description, metric, settings) => {
      alarms[id] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: name,
          AlarmDescription: description,
          ...metric,
          ...settings,
          // No data (an idle function, an empty queue) is healthy.
          TreatMissingData: 'notBreaching',
          AlarmActions: [topic],
          OKActions: [topic],
        },
      };
    };
    const metric = (namespace, name, dimensions) => ({ Namespace: namespace, MetricName: name, Dimensions: dimensions });
    const functionIds = new Map();
    for (const key of service.getAllFunctions()) {
      const id = this.serverless.getProvider('aws').naming.getLambdaLogicalId(key);
      const name = service.getFunction(key).name;
      const base = id.replace(/LambdaFunction$/, '');
      functionIds.set(id, { name, base });
      const fn = [{ Name: 'FunctionName', Value: { Ref: id } }];
      alarm(`${base}ErrorsAlarm`, `${name}-errors`, `${name} failed in 2 of 3 five-minute periods`, metric('AWS/Lambda', 'Errors', fn), ERRORS);
      alarm(`${base}ThrottlesAlarm`, `${name}-throttles`, `${name} was throttled through 15 minutes`, metric('AWS/Lambda', 'Throttles', fn), THROTTLES);
      const timeoutMs = Number(resources[id]?.Properties?.Timeout ?? 3) * 1000;
      const nearTimeout = { ...NEAR_TIMEOUT, Threshold: Math.round(timeoutMs * NEAR_TIMEOUT_SHARE) };
      alarm(`${base}NearTimeoutAlarm`, `${name}-near-timeout`, `${name} ran for ${NEAR_TIMEOUT_SHARE * 100}% of its ${timeoutMs / 1000} s timeout`, metric('AWS/Lambda', 'Duration', fn), nearTimeout);
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
        alarm(`${fn.base}IteratorAgeAlarm`, `${fn.name}-iterator-age`, `${fn.name} is more than 10 minutes behind its stream`, metric('AWS/Lambda', 'IteratorAge', dims), ITERATOR_AGE);
      }
    }
    for (const q of queues) {
      const name = typeof resources[q].Properties?.QueueName === 'string' ? resources[q].Properties.QueueName : `${service.service}-${stage}-${q}`;
      const dims = [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [q, 'QueueName'] } }];
      alarm(`${q}DepthAlarm`, `${name}-depth`, `${name} holds events whose retries ran out (dataharvest failures)`, metric('AWS/SQS', 'ApproximateNumberOfMessagesVisible', dims), DEPTH);
    }
    const named = (id, property) => (typeof resources[id].Properties?.[property] === 'string' ? resources[id].Properties[property] : `${service.service}-${stage}-${id}`);
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type === 'AWS::Kinesis::Stream') {
        const dims = [{ Name: 'StreamName', Value: { Ref: id } }];
        const name = named(id, 'Name');
        alarm(
          `${id}WriteThrottlesAlarm`,
          `${name}-write-throttles`,
          `writes to ${name} were throttled through 15 minutes`,
          metric('AWS/Kinesis', 'WriteProvisionedThroughputExceeded', dims),
          STREAM_THROTTLES,
        );
      }
      if (r.Type === 'AWS::DynamoDB::Table' && r.Properties?.KinesisStreamSpecification) this.replicationAlarms(id, named(id, 'TableName'), alarm);
      if (r.Type === 'AWS::RDS::DBCluster') {
        const dims = [{ Name: 'DBClusterIdentifier', Value: { Ref: id } }];
        const name = named(id, 'DBClusterIdentifier');
        alarm(`${id}CapacityAlarm`, `${name}-cluster-acu-at-max`, `${name} ran at its maximum capacity for 15 minutes (databaseMaxCapacity)`, metric('AWS/RDS', 'ACUUtilization', dims), ACU_AT_MAX);
        alarm(`${id}CpuAlarm`, `${name}-cluster-cpu`, `${name} used 90% of its CPU for 15 minutes`, metric('AWS/RDS', 'CPUUtilization', dims), CPU);
        alarm(`${id}MemoryAlarm`, `${name}-cluster-freeable-memory`, `${name} has under 1 GiB free at maximum capacity`, metric('AWS/RDS', 'FreeableMemory', dims), FREE_MEMORY);
      }
      if (r.Type === 'AWS::RDS::DBProxy') {
        const dims = [{ Name: 'ProxyName', Value: { Ref: id } }];
        const name = named(id, 'DBProxyName');
        const budget = Number(service.custom?.alarms?.proxyClientConnections ?? DEFAULT_CONNECTION_BUDGET);
        alarm(
          `${id}ClientConnectionsAlarm`,
          `${name}-proxy-client-connections`,
          `more than ${budget} clients connected to ${name} (the connection budget)`,
          metric('AWS/RDS', 'ClientConnections', dims),
          {
            ...CLIENT_CONNECTIONS,
            Threshold: budget,
          },
        );
        alarm(
          `${id}BorrowLatencyAlarm`,
          `${name}-proxy-borrow-latency`,
          `borrowing a connection from ${name} took over 100 ms on average`,
          metric('AWS/RDS', 'DatabaseConnectionsBorrowLatency', dims),
          BORROW_LATENCY,
        );
      }
    }
    if (resources.AlarmTopic) this.stuckStageAlarms(service.custom?.stuckStageMinutes ?? {}, stage, alarm);
    const email = service.custom?.alarmEmail;
    if (email && resources.AlarmTopic) {
      alarms.AlarmTopicEmailSubscription = { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: email } };
    }
    Object.assign(resources, alarms);
  }

  /**
   * The table's replication to its Kinesis stream: the age of the oldest change not yet replicated, and puts the
   * stream throttled. DynamoDB publishes both with a DelegatedOperation dimension beside TableName; a Metrics
   * Insights query selects them by table alone.
   */
  replicationAlarms(id, name, alarm) {
    const query = (metric, stat) => ({
      Metrics: [
        {
          Id: 'replication',
          Expression: { 'Fn::Sub': `SELECT ${stat}(${metric}) FROM SCHEMA("AWS/DynamoDB", DelegatedOperation, TableName) WHERE TableName = '\${${id}}'` },
          Period: 60,
          ReturnData: true,
        },
      ],
    });
    alarm(`${id}ReplicationAgeAlarm`, `${name}-replication-age`, `a change of ${name} waited over 10 minutes for its change feed`, query('AgeOfOldestUnreplicatedRecord', 'MAX'), {
      ...REPLICATION,
      Threshold: REPLICATION_AGE_MS,
    });
    alarm(`${id}ReplicationThrottlesAlarm`, `${name}-replication-throttles`, `replicating ${name} to its change feed was throttled for 5 minutes`, query('ThrottledPutRecordCount', 'SUM'), {
      ...REPLICATION,
      Threshold: 0,
    });
  }

  /**
   * Batches stuck in a stage: the services' BatchStageTime (seconds, dimension stage alone; shared/src/metrics.ts),
   * written when a batch leaves a stage and, for a batch that never does, by the delivery check every 5 minutes.
   * Once per stack, the one holding the topic; thresholds per stage in shared/operations.yml (stuckStageMinutes).
   */
  stuckStageAlarms(minutesByStage, stage, alarm) {
    for (const [batchStage, minutes] of Object.entries(minutesByStage)) {
      const id = batchStage.charAt(0) + batchStage.slice(1).toLowerCase();
      alarm(
        `Stuck${id}Alarm`,
        `dataharvest-${stage}-batch-stuck-${batchStage.toLowerCase()}`,
        `a batch stayed in ${batchStage} over ${minutes} minutes (dataharvest status)`,
        { Namespace: 'DataHarvest', MetricName: 'BatchStageTime', Dimensions: [{ Name: 'stage', Value: batchStage }] },
        { ...STUCK, Threshold: Number(minutes) * 60 },
      );
    }
  }

  /** The on-failure queue a destination names: one of this stack's queues, so its depth can be watched. */
  queueOf(id, destination, resources) {
    const queue = destination['Fn::GetAtt']?.[0];
    if (resources[queue]?.Type !== 'AWS::SQS::Queue') throw new AlarmTemplateError(`${id}: its on-failure destination is not an SQS queue of this stack (Fn::GetAtt <Queue>.Arn)`);
    return queue;
  }
}

module.exports = DataHarvestAlarms;
