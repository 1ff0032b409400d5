import { createHash, randomBytes } from 'node:crypto';
import { CloudError } from '../errors';
import type { SecretsManager } from '../emulators/secrets';
import { ACCOUNT, REGION } from '../account';
import type { Physical } from '../cloudformation/template';
import type { ResourceProvider } from './provider';

type Props = Record<string, unknown>;

/** What the local cloud needs of its embedded PostgreSQL to stand in for a cluster. */
export interface LocalPostgres {
  host: string;
  port: number;
  major: string;
  /** Creates (or updates) the cluster's master login and its database, as creating the cluster does on AWS. */
  login(user: string, password: string, database: string): Promise<void>;
  /** Sets server parameters, as a cluster parameter group does. */
  configure(parameters: Record<string, string>): Promise<void>;
}

/**
 * The database stack's resources. The cluster, its instance and the proxy all become the one embedded PostgreSQL
 * (the proxy's endpoint is the server itself: locally there is nothing to pool); the secret lives in the local
 * Secrets Manager. What only shapes AWS's network (VPC, subnets, security groups, routes, endpoints, subnet
 * groups) is recorded with AWS-shaped ids and has no effect: on loopback every function reaches everything. A
 * parameter group's logging parameters (log_*) are set on the server.
 */
export const DATABASE_RESOURCES = new Set([
  'AWS::SecretsManager::Secret',
  'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::SecretsManager::RotationSchedule',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBProxy',
  'AWS::RDS::DBProxyTargetGroup',
  'AWS::RDS::DBSubnetGroup',
  'AWS::RDS::DBClusterParameterGroup',
]);

/** Network resources and the id prefix AWS gives each. */
const NETWORK_IDS: Record<string, string> = {
  'AWS::EC2::VPC': 'vpc',
  'AWS::EC2::Subnet': 'subnet',
  'AWS::EC2::SecurityGroup': 'sg',
  'AWS::EC2::SecurityGroupIngress': 'sgr',
  'AWS::EC2::SecurityGroupEgress': 'sgr',
  'AWS::EC2::RouteTable': 'rtb',
  'AWS::EC2::SubnetRouteTableAssociation': 'rtbassoc',
  'AWS::EC2::VPCEndpoint': 'vpce',
  'AWS::EC2::FlowLog': 'fl',
};
export const NETWORK_RESOURCES = new Set(Object.keys(NETWORK_IDS));

const stableId = (...parts: string[]) => createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 17);

/** A network resource: recorded, with the ids Ref and Fn::GetAtt answer on AWS. */
export function recordNetworkResource(stackName: string, logicalId: string, type: string, props: Props): Physical {
  const id = `${NETWORK_IDS[type]}-${stableId(stackName, logicalId)}`;
  switch (type) {
    case 'AWS::EC2::VPC':
      return { ref: id, attributes: { VpcId: id, CidrBlock: String(props.CidrBlock), DefaultSecurityGroup: `sg-${stableId(id, 'default')}` } };
    case 'AWS::EC2::Subnet':
      return { ref: id, attributes: { SubnetId: id, AvailabilityZone: String(props.AvailabilityZone), VpcId: String(props.VpcId) } };
    case 'AWS::EC2::SecurityGroup':
      return { ref: id, attributes: { GroupId: id, VpcId: String(props.VpcId) } };
    default:
      return { ref: id, attributes: { Id: id } };
  }
}

/** `{{resolve:secretsmanager:<id>:SecretString:<key>}}`, as CloudFormation resolves it at deploy. */
const DYNAMIC_REFERENCE = /\{\{resolve:secretsmanager:(.+?):SecretString:([^:}]*)(?::[^}]*)?\}\}/g;

/** The generated password: GenerateSecretString's length, letters and digits only (what ExcludePunctuation leaves). */
function generatedSecret(spec: Props): string {
  const template = spec.SecretStringTemplate ? (JSON.parse(String(spec.SecretStringTemplate)) as Props) : undefined;
  const length = Number(spec.PasswordLength ?? 32);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const password = [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
  if (!template) return password;
  if (!spec.GenerateStringKey) throw new CloudError('GenerateSecretString: SecretStringTemplate needs GenerateStringKey');
  return JSON.stringify({ ...template, [String(spec.GenerateStringKey)]: password });
}

/** Creates the database stack's resources onto the embedded PostgreSQL and the local Secrets Manager. */
export class LocalDatabaseResources {
  private readonly clusters = new Map<string, { database: string }>();

  constructor(
    private readonly postgres: LocalPostgres,
    private readonly secrets: SecretsManager,
  ) {}

  /** CloudFormation's dynamic references to secrets, resolved in a resource's properties. */
  resolveSecrets(value: unknown): unknown {
    if (typeof value === 'string') {
      return value.replace(DYNAMIC_REFERENCE, (_, id: string, key: string) => {
        const secret = this.secrets.get(id);
        if (!secret) throw new CloudError(`dynamic reference to secret ${id}, which does not exist`);
        return key ? String((JSON.parse(secret.value) as Props)[key]) : secret.value;
      });
    }
    if (Array.isArray(value)) return value.map((v) => this.resolveSecrets(v));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolveSecrets(v)]));
    return value;
  }

  async create(stackName: string, logicalId: string, type: string, raw: Props): Promise<Physical> {
    const props = this.resolveSecrets(raw) as Props;
    const name = (property: string) => String(props[property] ?? `${stackName}-${logicalId}`.toLowerCase());
    const rdsArn = (kind: string, id: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:${kind}:${id}`;
    const { host, port } = this.postgres;
    switch (type) {
      case 'AWS::SecretsManager::Secret': {
        const secretName = name('Name');
        if (props.SecretString === undefined && !props.GenerateSecretString) throw new CloudError(`${logicalId}: a secret needs SecretString or GenerateSecretString`);
        const secretArn = this.secrets.create(secretName, () => (props.SecretString === undefined ? generatedSecret(props.GenerateSecretString as Props) : String(props.SecretString)));
        return { ref: secretArn, attributes: { Id: secretArn } };
      }
      case 'AWS::SecretsManager::SecretTargetAttachment': {
        const cluster = this.clusters.get(String(props.TargetId));
        if (props.TargetType !== 'AWS::RDS::DBCluster' || !cluster) throw new CloudError(`${logicalId}: the local cloud attaches secrets to a DBCluster of this stack only`);
        const secret = this.secrets.get(String(props.SecretId))!;
        const value = { ...(JSON.parse(secret.value) as Props), engine: 'postgres', host, port, dbname: cluster.database, dbClusterIdentifier: String(props.TargetId) };
        this.secrets.put(secret.arn, JSON.stringify(value));
        return { ref: secret.arn, attributes: {} };
      }
      case 'AWS::SecretsManager::RotationSchedule': {
        // Checked, not run: the local passwords stay as generated (docs/local-cloud.md). Ref answers the secret's ARN.
        const secret = this.secrets.get(String(props.SecretId));
        if (!secret) throw new CloudError(`${logicalId}: rotation of secret ${String(props.SecretId)}, which does not exist`);
        return { ref: secret.arn, attributes: {} };
      }
      case 'AWS::RDS::DBCluster': {
        const engine = String(props.Engine);
        if (engine !== 'aurora-postgresql' && engine !== 'postgres') throw new CloudError(`${logicalId}: engine ${engine}; the local cloud embeds PostgreSQL only`);
        const major = String(props.EngineVersion ?? this.postgres.major).split('.')[0];
        if (major !== this.postgres.major)
          throw new CloudError(`${logicalId}: EngineVersion ${String(props.EngineVersion)}; the local cloud embeds PostgreSQL ${this.postgres.major}, so the same SQL runs locally and on AWS`);
        if (!props.MasterUsername || !props.MasterUserPassword) throw new CloudError(`${logicalId}: the local cloud needs MasterUsername and MasterUserPassword (from the stack's secret)`);
        const id = name('DBClusterIdentifier');
        const database = String(props.DatabaseName ?? 'postgres');
        await this.postgres.login(String(props.MasterUsername), String(props.MasterUserPassword), database);
        this.clusters.set(id, { database });
        return {
          ref: id,
          attributes: { 'Endpoint.Address': host, 'Endpoint.Port': String(port), 'ReadEndpoint.Address': host, DBClusterArn: rdsArn('cluster', id), DBClusterResourceId: `cluster-${stableId(id)}` },
        };
      }
      case 'AWS::RDS::DBInstance': {
        if (!this.clusters.has(String(props.DBClusterIdentifier))) throw new CloudError(`${logicalId}: the local cloud runs instances of a DBCluster of this stack only`);
        const id = name('DBInstanceIdentifier');
        return { ref: id, attributes: { 'Endpoint.Address': host, 'Endpoint.Port': String(port), DBInstanceArn: rdsArn('db', id) } };
      }
      case 'AWS::RDS::DBProxy': {
        const auth = (props.Auth as Array<{ SecretArn?: string }> | undefined) ?? [];
        for (const a of auth) if (!a.SecretArn || !this.secrets.get(a.SecretArn)) throw new CloudError(`${logicalId}: proxy auth names secret ${String(a.SecretArn)}, which does not exist`);
        const id = name('DBProxyName');
        return { ref: id, attributes: { Endpoint: host, DBProxyArn: rdsArn('db-proxy', `prx-${stableId(id)}`), VpcId: 'vpc-local' } };
      }
      case 'AWS::RDS::DBProxyTargetGroup': {
        for (const c of (props.DBClusterIdentifiers as string[] | undefined) ?? []) if (!this.clusters.has(c)) throw new CloudError(`${logicalId}: target ${c} is not a DBCluster of this stack`);
        const targetGroupArn = rdsArn('target-group', `prx-tg-${stableId(stackName, logicalId)}`);
        return { ref: targetGroupArn, attributes: { TargetGroupArn: targetGroupArn } };
      }
      case 'AWS::RDS::DBClusterParameterGroup': {
        const family = String(props.Family);
        if (!family.endsWith(this.postgres.major)) throw new CloudError(`${logicalId}: family ${family}; the local cloud embeds PostgreSQL ${this.postgres.major}`);
        // What the database logs is applied, so the local log holds what Aurora's would (no DETAIL, no statement);
        // the other parameters (rds.*) are Aurora's own or, like force_ssl, stood in for by the server's setup.
        const parameters = Object.entries((props.Parameters as Props | undefined) ?? {}).filter(([k]) => k.startsWith('log_'));
        await this.postgres.configure(Object.fromEntries(parameters.map(([k, v]) => [k, String(v)])));
        return { ref: name('DBClusterParameterGroupName'), attributes: {} };
      }
      case 'AWS::RDS::DBSubnetGroup':
        return { ref: name('DBSubnetGroupName'), attributes: {} };
      default:
        throw new Error(`${type} is not a database resource`);
    }
  }
}

/** The database stack: its cluster, proxy and secrets on the embedded PostgreSQL, its network recorded. */
export const database: ResourceProvider = {
  types: [...DATABASE_RESOURCES, ...NETWORK_RESOURCES],
  async create({ cloud, stack, logicalId, resource, props }) {
    if (DATABASE_RESOURCES.has(resource.Type)) return cloud.database.create(stack.stackName, logicalId, resource.Type, props());
    return recordNetworkResource(stack.stackName, logicalId, resource.Type, props());
  },
};
