import type { Services } from '../emulators/services';
import { CloudError } from '../errors';
import { deniedByBucketPolicy, s3RequestContext } from './bucket-policy';
import { LocalKeys } from './keys';
import { type IamProxy, startIamProxy, type Statement } from './proxy';
import { assumeRole, type RoleSession } from './sessions';

/** The services whose SDK endpoint variables a function's IAM proxy stands in for. */
const PROXIED = ['S3', 'DYNAMODB', 'DYNAMODB_STREAMS', 'KINESIS', 'SQS', 'SNS', 'SECRETS_MANAGER'];

/**
 * The local cloud's IAM: the deployed roles and bucket policies, the proxy that holds each function to its role,
 * and the sessions handed out by assumeRole. Every proxy applies the bucket policies as S3 would.
 */
export class LocalIam {
  /** Role ARN -> its resolved properties, read when a session is asked for. */
  private readonly roles = new Map<string, () => Record<string, unknown>>();
  private readonly bucketPolicies = new Map<string, Statement[]>();
  private readonly proxies = new Map<string, IamProxy>();
  private readonly sessions: RoleSession[] = [];
  /** Each function's principal and role statements, for what Lambda does with the role (stream mappings). */
  private readonly functionRoles = new Map<string, { principal: string; statements: Statement[] }>();
  /** The templates' customer managed keys and the stores under them. */
  readonly keys = new LocalKeys();

  constructor(
    private readonly emulators: Pick<Services, 'endpoints' | 'secrets'>,
    private readonly log: (line: string, functionName?: string) => void,
  ) {}

  addRole(roleArn: string, properties: () => Record<string, unknown>): void {
    this.roles.set(roleArn, properties);
  }

  setBucketPolicy(bucket: string, statements: Statement[]): void {
    this.bucketPolicies.set(bucket, statements);
  }

  private readonly policyOf = (bucket: string) => this.bucketPolicies.get(bucket);

  /**
   * Starts the function's proxy (stopping the one it had) and returns the endpoint variables that send the
   * function's AWS calls through it.
   */
  async proxyFunction(name: string, principal: string, statements: Statement[]): Promise<Record<string, string>> {
    await this.stopProxy(name);
    const proxy = await startIamProxy(
      principal,
      statements,
      this.emulators.endpoints,
      (refused) => this.log(refused instanceof Error ? `${name}: AccessDenied: ${refused.message}` : `${name}: AccessDenied: ${refused.action} on ${refused.resource} is not in its role`, name),
      (secretId) => this.emulators.secrets.get(secretId)?.arn,
      (permission, headers) => deniedByBucketPolicy(permission, principal, s3RequestContext(principal, headers), this.policyOf),
      undefined,
      (permission, context) => this.keys.refusal(permission, statements, principal, context),
    );
    this.proxies.set(name, proxy);
    this.functionRoles.set(name, { principal, statements });
    return Object.fromEntries(PROXIED.map((s) => [`AWS_ENDPOINT_URL_${s}`, proxy.endpoint]));
  }

  /**
   * Why Lambda could not read an encrypted stream for the function with its role (the key refused), or undefined:
   * on AWS the mapping then stays enabled and delivers nothing.
   */
  mappingRefusal(functionName: string, sourceArn: string): string | undefined {
    const role = this.functionRoles.get(functionName);
    const read = sourceArn.includes(':kinesis:') ? 'kinesis:GetRecords' : sourceArn.includes(':sqs:') ? 'sqs:ReceiveMessage' : undefined;
    const refused = role && read ? this.keys.refusal({ action: read, resource: sourceArn }, role.statements, role.principal) : undefined;
    return refused && `${functionName}: AccessDenied: ${refused.action} on ${refused.resource} ${refused.reason}: its mapping on ${sourceArn} delivers nothing`;
  }

  async stopProxy(name: string): Promise<void> {
    await this.proxies.get(name)?.stop();
    this.proxies.delete(name);
  }

  /** STS AssumeRole with session tags, for one of the deployed roles (sessions.ts). */
  async assumeRole(roleArn: string, { caller, tags = {} }: { caller: string; tags?: Record<string, string> }): Promise<RoleSession> {
    const role = this.roles.get(roleArn);
    if (!role) throw new CloudError(`no deployed stack holds the role ${roleArn}`);
    const session = await assumeRole({
      roleArn,
      role: role(),
      caller,
      tags,
      targets: this.emulators.endpoints,
      resourceDenies: (permission, principal, context) => deniedByBucketPolicy(permission, principal, context, this.policyOf),
      keyRefusal: (permission, principal, statements, context) => this.keys.refusal(permission, statements, principal, context),
      onDenied: (message) => this.log(message),
    });
    this.sessions.push(session);
    return session;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.proxies.values(), ...this.sessions].map((p) => p.stop()));
  }
}
