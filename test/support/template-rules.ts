/**
 * What a bank's AWS reviewer checks in the packaged templates, as rules over every stack's resources: each returns
 * the violations it finds (empty when the templates hold), so test/templates.test.ts can show both that the
 * templates pass and that each rule catches a deliberately broken template.
 */
export type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string; DependsOn?: string | string[]; Condition?: string };
export type Entry = { stack: string; id: string; r: Resource };

const json = (v: unknown) => JSON.stringify(v);
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const props = (e: Entry) => e.r.Properties ?? {};
const find = (all: Entry[], stack: string, id: string) => all.find((x) => x.stack === stack && x.id === id);
const getAttOf = (v: unknown) => (v as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];

/** What AWS's managed execution-role policies grant a function for each kind of mapping (what Lambda checks). */
export const MAPPING_ACTIONS = {
  // AWSLambdaKinesisExecutionRole; SubscribeToShard is on the consumer of an enhanced fan-out mapping.
  kinesis: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards', 'kinesis:ListStreams'],
  // AWSLambdaDynamoDBExecutionRole.
  dynamodb: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
  // AWSLambdaSQSQueueExecutionRole.
  sqs: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
} as const;
const MANAGED = { kinesis: 'AWSLambdaKinesisExecutionRole', dynamodb: 'AWSLambdaDynamoDBExecutionRole', sqs: 'AWSLambdaSQSQueueExecutionRole' } as const;

/** A function's role and what it grants: inline statements, managed policy ARNs. */
function roleOf(all: Entry[], fn: Entry) {
  const roleId = getAttOf(props(fn).Role)?.[0];
  const role = roleId ? find(all, fn.stack, roleId) : undefined;
  const statements = list(props(role ?? fn).Policies)
    .flatMap((p) => list((p as { PolicyDocument?: { Statement?: unknown } }).PolicyDocument?.Statement))
    .map((s) => s as { Effect?: string; Action?: unknown; Resource?: unknown });
  return { roleId, statements, managed: json(props(role ?? fn).ManagedPolicyArns ?? []) };
}

/** Whether an IAM action as granted (with * wildcards, any case) covers `action`. */
export const actionMatches = (granted: unknown, action: string) =>
  new RegExp(
    `^${String(granted)
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
    'i',
  ).test(action);
/** Whether the statements allow the action on a resource written exactly as `resource` (or on `*`). */
const grants = (statements: ReturnType<typeof roleOf>['statements'], action: string, resource: unknown) =>
  statements.some((s) => s.Effect === 'Allow' && list(s.Action).some((a) => actionMatches(a, action)) && list(s.Resource).some((r) => r === '*' || json(r) === json(resource)));

/** Every stream or queue mapping's role grants what AWS's managed execution role for that source lists. */
export function mappingRoleViolations(all: Entry[]): string[] {
  const out: string[] = [];
  for (const m of all.filter((x) => x.r.Type === 'AWS::Lambda::EventSourceMapping')) {
    const fn = find(all, m.stack, getAttOf(props(m).FunctionName)?.[0] ?? '');
    if (!fn) {
      out.push(`${m.stack}/${m.id}: its function is not in the stack`);
      continue;
    }
    const role = roleOf(all, fn);
    const source = props(m).EventSourceArn;
    const ref = (source as { Ref?: string }).Ref;
    const consumer = ref ? find(all, m.stack, ref) : undefined;
    const att = getAttOf(source);
    const target = att ? find(all, m.stack, att[0]) : undefined;
    let kind: keyof typeof MAPPING_ACTIONS;
    let resource: unknown = source;
    if (consumer?.r.Type === 'AWS::Kinesis::StreamConsumer') {
      kind = 'kinesis';
      resource = props(consumer).StreamARN;
      if (!grants(role.statements, 'kinesis:SubscribeToShard', source) && !role.managed.includes(MANAGED.kinesis))
        out.push(`${m.stack}/${m.id}: role ${role.roleId} lacks kinesis:SubscribeToShard on its consumer`);
    } else if (target?.r.Type === 'AWS::Kinesis::Stream' || json(source).includes('kinesis')) kind = 'kinesis';
    else if (target?.r.Type === 'AWS::SQS::Queue') kind = 'sqs';
    else if (target?.r.Type === 'AWS::DynamoDB::Table' || att?.[1] === 'StreamArn') kind = 'dynamodb';
    else {
      out.push(`${m.stack}/${m.id}: its source ${json(source)} is of no kind these rules know`);
      continue;
    }
    if (role.managed.includes(MANAGED[kind])) continue;
    const missing = MAPPING_ACTIONS[kind].filter((a) => !grants(role.statements, a, resource));
    if (missing.length) out.push(`${m.stack}/${m.id}: role ${role.roleId} lacks ${missing.join(', ')} on ${json(resource)}`);
    const queue = (props(m).DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination;
    if (queue && !grants(role.statements, 'sqs:SendMessage', queue)) out.push(`${m.stack}/${m.id}: role ${role.roleId} lacks sqs:SendMessage on its on-failure queue`);
  }
  return out;
}

/** Every VPC endpoint has a policy, and it names only resources of the stage (no `*`). */
export function endpointPolicyViolations(all: Entry[], stage: string): string[] {
  return all
    .filter((x) => x.r.Type === 'AWS::EC2::VPCEndpoint')
    .flatMap((e) => {
      const statements = list((props(e).PolicyDocument as { Statement?: unknown } | undefined)?.Statement) as Array<{ Resource?: unknown }>;
      if (!statements.length) return [`${e.stack}/${e.id}: no endpoint policy`];
      const resources = statements.flatMap((s) => list(s.Resource)).map(json);
      const foreign = resources.filter((r) => r === '"*"' || !r.includes(`-${stage}`));
      return foreign.length || !resources.length ? [`${e.stack}/${e.id}: its policy names ${foreign.join(', ') || 'no resource'}`] : [];
    });
}

/** No security group rule lets traffic out to the whole internet. */
export function openEgressViolations(all: Entry[]): string[] {
  const rules = [
    ...all.filter((x) => x.r.Type === 'AWS::EC2::SecurityGroup').flatMap((g) => list(props(g).SecurityGroupEgress).map((rule) => ({ where: `${g.stack}/${g.id}`, rule }))),
    ...all.filter((x) => x.r.Type === 'AWS::EC2::SecurityGroupEgress').map((g) => ({ where: `${g.stack}/${g.id}`, rule: props(g) as unknown })),
  ];
  return rules
    .filter(({ rule }) => {
      const r = rule as { CidrIp?: string; CidrIpv6?: string };
      return r.CidrIp === '0.0.0.0/0' || r.CidrIpv6 === '::/0';
    })
    .map(({ where }) => `${where}: egress to the internet`);
}

/**
 * Every log group has a retention; every log an RDS cluster exports goes to a log group of the template (declared
 * before the cluster, with its fixed identifier), or RDS would create it without one; every VPC has flow logs.
 */
export function logRetentionViolations(all: Entry[]): string[] {
  const out: string[] = [];
  const groups = all.filter((x) => x.r.Type === 'AWS::Logs::LogGroup');
  for (const g of groups) if (typeof props(g).RetentionInDays !== 'number') out.push(`${g.stack}/${g.id}: no retention`);
  for (const c of all.filter((x) => x.r.Type === 'AWS::RDS::DBCluster')) {
    for (const log of list(props(c).EnableCloudwatchLogsExports)) {
      const name = `/aws/rds/cluster/${String(props(c).DBClusterIdentifier)}/${String(log)}`;
      const group = groups.find((g) => g.stack === c.stack && props(g).LogGroupName === name);
      if (!group || !list(c.r.DependsOn).includes(group.id)) out.push(`${c.stack}/${c.id}: its ${String(log)} log has no log group of the template created before it (${name})`);
    }
  }
  for (const v of all.filter((x) => x.r.Type === 'AWS::EC2::VPC')) {
    const logged = all.some((f) => f.stack === v.stack && f.r.Type === 'AWS::EC2::FlowLog' && json(props(f).ResourceId) === json({ Ref: v.id }));
    if (!logged) out.push(`${v.stack}/${v.id}: no flow log`);
  }
  return out;
}

/** The alarms of a stack, keyed by what they watch. */
function alarmsOf(all: Entry[], stack: string) {
  return all
    .filter((x) => x.stack === stack && x.r.Type === 'AWS::CloudWatch::Alarm')
    .map((a) => ({
      namespace: props(a).Namespace,
      metric: props(a).MetricName,
      dimension: json(list(props(a).Dimensions)[0] && (list(props(a).Dimensions)[0] as { Value: unknown }).Value),
      text: json(props(a)),
      p: props(a),
    }));
}

/** Every function has an Errors, a Throttles and a near-timeout Duration alarm (threshold below its timeout). */
export function functionAlarmViolations(all: Entry[]): string[] {
  const out: string[] = [];
  for (const f of all.filter((x) => x.r.Type === 'AWS::Lambda::Function')) {
    const mine = alarmsOf(all, f.stack).filter((a) => a.namespace === 'AWS/Lambda' && a.dimension === json({ Ref: f.id }));
    for (const metric of ['Errors', 'Throttles', 'Duration']) if (!mine.some((a) => a.metric === metric)) out.push(`${f.stack}/${f.id}: no ${metric} alarm`);
    const timeoutMs = Number(props(f).Timeout ?? 3) * 1000;
    const duration = mine.find((a) => a.metric === 'Duration');
    if (duration && !(Number(duration.p.Threshold) < timeoutMs)) out.push(`${f.stack}/${f.id}: its Duration alarm fires only at or past its timeout`);
  }
  return out;
}

/**
 * What stalls everything silently is watched: each table's replication to its change feed (age of the oldest
 * unreplicated change and throttled puts), each stream's write throttling, each cluster's capacity, CPU and memory,
 * each proxy's client connections and borrow latency.
 */
export function watchedViolations(all: Entry[]): string[] {
  const out: string[] = [];
  const need = (e: Entry, label: string, matches: (a: ReturnType<typeof alarmsOf>[number]) => boolean) => {
    if (!alarmsOf(all, e.stack).some(matches)) out.push(`${e.stack}/${e.id}: ${label} unwatched`);
  };
  for (const t of all.filter((x) => x.r.Type === 'AWS::DynamoDB::Table' && props(x).KinesisStreamSpecification))
    for (const metric of ['AgeOfOldestUnreplicatedRecord', 'ThrottledPutRecordCount']) need(t, `replication (${metric})`, (a) => a.text.includes(metric) && a.text.includes(`\${${t.id}}`));
  for (const s of all.filter((x) => x.r.Type === 'AWS::Kinesis::Stream'))
    need(s, 'write throttling', (a) => a.namespace === 'AWS/Kinesis' && a.metric === 'WriteProvisionedThroughputExceeded' && a.dimension === json({ Ref: s.id }));
  for (const c of all.filter((x) => x.r.Type === 'AWS::RDS::DBCluster'))
    for (const metric of ['ACUUtilization', 'CPUUtilization', 'FreeableMemory']) need(c, metric, (a) => a.metric === metric && a.dimension === json({ Ref: c.id }));
  for (const p of all.filter((x) => x.r.Type === 'AWS::RDS::DBProxy'))
    for (const metric of ['ClientConnections', 'DatabaseConnectionsBorrowLatency']) need(p, metric, (a) => a.metric === metric && a.dimension === json({ Ref: p.id }));
  return out;
}

/** Every function is traced by X-Ray, and its role may write the traces (or Lambda refuses the function). */
export function tracingViolations(all: Entry[]): string[] {
  return all
    .filter((x) => x.r.Type === 'AWS::Lambda::Function')
    .flatMap((f) => {
      if ((props(f).TracingConfig as { Mode?: string } | undefined)?.Mode !== 'Active') return [`${f.stack}/${f.id}: not traced`];
      const role = roleOf(all, f);
      return grants(role.statements, 'xray:PutTraceSegments', '*') || role.managed.includes('AWSXRayDaemonWriteAccess') ? [] : [`${f.stack}/${f.id}: role ${role.roleId} may not write traces`];
    });
}

/**
 * No function but the one that creates the logins (the ServiceToken of a Custom::DatabaseLogins) names the master
 * secret, the one the cluster's master password resolves from, in its environment or its role: every service
 * connects as its own login (shared/database-access.json).
 */
export function masterLoginViolations(all: Entry[]): string[] {
  const masters = all.filter((x) => x.r.Type === 'AWS::RDS::DBCluster').map((c) => ({ stack: c.stack, id: /resolve:secretsmanager:\$\{(\w+)\}/.exec(json(props(c).MasterUserPassword))?.[1] }));
  const names = (text: string, stack: string) =>
    text.includes('-database-secret-arn"') || masters.some((m) => m.stack === stack && m.id && (text.includes(json({ Ref: m.id })) || text.includes(`\${${m.id}}`)));
  const creators = all.filter((x) => x.r.Type === 'Custom::DatabaseLogins').map((x) => `${x.stack}/${getAttOf(props(x).ServiceToken)?.[0]}`);
  return all
    .filter((x) => x.r.Type === 'AWS::Lambda::Function' && !creators.includes(`${x.stack}/${x.id}`))
    .flatMap((f) => {
      const role = roleOf(all, f);
      const out: string[] = [];
      if (names(json(props(f).Environment ?? {}), f.stack)) out.push(`${f.stack}/${f.id}: its environment names the master login's secret`);
      if (names(json(role.statements), f.stack)) out.push(`${f.stack}/${f.id}: its role ${role.roleId} may read the master login's secret`);
      return out;
    });
}
