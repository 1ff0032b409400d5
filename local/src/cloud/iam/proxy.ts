import { Agent, createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { type Listening, listenOnLoopback, refusedHost } from '../http';
import { conditionsHold, globOf, likePattern, type RequestContext } from './conditions';
import { dynamodbPermissions } from './dynamodb';
import { UnreadableRequest, type Permission } from './request';
import { s3Permissions } from './s3';
import { isSnsRequest, snsPermissions } from './sns';
import { arn } from '../account';
import { LocalCloudError } from '../errors';

/** One statement of a role's inline policies, its intrinsics resolved. */
export interface Statement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  /** A resource policy's NotResource: the statement matches every resource but these. */
  notResources?: string[];
  /** The statement's Condition block: evaluated only when a request context is given (see `allows`). */
  conditions?: Record<string, Record<string, unknown>>;
  /** A resource policy's Principal: `*`, or the ARNs of `{ AWS: … }`. */
  principals?: string[];
}
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const statementOf = (s: Record<string, unknown>): Statement => ({
  effect: s.Effect === 'Deny' ? 'Deny' : 'Allow',
  actions: list(s.Action),
  resources: list(s.Resource),
  ...(s.Condition ? { conditions: s.Condition as Statement['conditions'] } : {}),
});
const statementsOf = (document: { Statement?: unknown } | undefined) => ([] as Array<Record<string, unknown>>).concat((document?.Statement ?? []) as never);

/** The statements of a role resource's inline policies (`Policies[].PolicyDocument.Statement`). */
export function roleStatements(roleProperties: Record<string, unknown> | undefined): Statement[] {
  const policies = (roleProperties?.Policies ?? []) as Array<{ PolicyDocument?: { Statement?: unknown } }>;
  // A policy's Statement is one statement or a list of them.
  return policies.flatMap((p) => statementsOf(p.PolicyDocument)).map(statementOf);
}

/**
 * The statements of a resource policy (an `AWS::S3::BucketPolicy`'s PolicyDocument), each with its Principal. A
 * NotPrincipal or NotAction is refused: read as its positive twin it would invert the statement. A service principal
 * (`{ Service: logging.s3.amazonaws.com }`) is kept as `service:<name>`, which names no local requester.
 */
export function resourcePolicyStatements(document: { Statement?: unknown } | undefined): Statement[] {
  return statementsOf(document).map((s) => {
    const not = ['NotPrincipal', 'NotAction'].find((k) => k in s);
    if (not) throw new UnsupportedPolicy(`a resource policy statement with ${not} is not read by the local IAM evaluator`);
    if ('NotResource' in s && 'Resource' in s) throw new UnsupportedPolicy('a statement has both Resource and NotResource, which IAM refuses');
    const principal = s.Principal as string | { AWS?: unknown; Service?: unknown } | undefined;
    const principals = principal === '*' ? ['*'] : typeof principal === 'object' ? [...list(principal.AWS), ...list(principal.Service).map((p) => `service:${p}`)] : [];
    if (principal !== '*' && typeof principal === 'object' && Object.keys(principal).some((k) => k !== 'AWS' && k !== 'Service'))
      throw new UnsupportedPolicy(`a resource policy Principal other than *, AWS or Service (${Object.keys(principal).join(', ')}) is not read by the local IAM evaluator`);
    return { ...statementOf(s), principals, ...('NotResource' in s ? { notResources: list(s.NotResource) } : {}) };
  });
}

/** A policy the evaluator cannot read as AWS would: refused, never approximated. */
export class UnsupportedPolicy extends LocalCloudError {
  override name = 'UnsupportedPolicy';
}

/** IAM's wildcards: `*` any run of characters, `?` any one; actions are case-insensitive. */
const glob = globOf;

/**
 * Whether the statements allow the permission: an explicit Deny wins, then any Allow, else the implicit deny.
 * Without a request context, conditions are not evaluated (a statement with one counts as matching, so a condition
 * only ever narrows on AWS). With one, each Condition block must hold and resources' policy variables
 * (`${aws:PrincipalTag/client}`) take the request's values (a variable without one matches nothing).
 */
export function allows(statements: Statement[], permission: Permission, context?: RequestContext): boolean {
  if (statements.some((s) => s.effect === 'Deny' && matches(s, permission, context))) return false;
  return statements.some((s) => s.effect === 'Allow' && matches(s, permission, context));
}

function matches(s: Statement, { action, resource }: Permission, context: RequestContext | undefined): boolean {
  if (!s.actions.some((a) => glob(a, 'i').test(action))) return false;
  // A NotResource whose policy variable has no value excludes nothing: the statement covers every resource.
  const named = (r: string) => (context ? (likePattern(r, context)?.test(resource) ?? false) : glob(r).test(resource));
  const covered = s.notResources ? !s.notResources.some(named) : s.resources.some(named);
  return covered && (!context || conditionsHold(s.conditions, context));
}

/** Whether a resource policy statement names the principal: `*`, its own ARN, or its account's root. */
const names = (s: Statement, principal: string) => (s.principals ?? []).some((p) => p === '*' || p === principal || p === `arn:aws:iam::${principal.split(':')[4]}:root`);

/**
 * IAM's decision for a principal of the bucket's own account: an explicit Deny in its identity policies or in the
 * resource policy wins; else an Allow in either allows (within one account, either is enough).
 */
export function decide(request: { principal: string; identity: Statement[]; resourcePolicy: Statement[]; permission: Permission; context: RequestContext }): boolean {
  const { principal, identity, permission, context } = request;
  const resourcePolicy = request.resourcePolicy.filter((s) => names(s, principal));
  const denied = (list: Statement[]) => list.some((s) => s.effect === 'Deny' && matches(s, permission, context));
  if (denied(identity) || denied(resourcePolicy)) return false;
  return allows(identity, permission, context) || allows(resourcePolicy, permission, context);
}

/**
 * The body of a JSON protocol request, or UnreadableRequest: anything but a plain JSON object (a byte-order mark, a
 * CBOR body as `application/x-amz-cbor-1.1`) could be read differently by the emulator than here.
 */
function jsonInput(headers: IncomingMessage['headers'], body: Buffer): Record<string, unknown> {
  const type = String(headers['content-type'] ?? 'application/x-amz-json-1.0');
  if (!/^application\/(x-amz-json-1\.[01]|json)\b/.test(type)) throw new UnreadableRequest(`a ${type} body is not read by the local IAM proxy`);
  if (!body.length) return {};
  const start = body.findIndex((b) => ![0x20, 0x09, 0x0a, 0x0d].includes(b));
  if (body[start] !== 0x7b) throw new UnreadableRequest('the body does not start with a JSON object (a byte-order mark or another encoding)');
  const input: unknown = JSON.parse(body.toString('utf8'));
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new UnreadableRequest('the body is not a JSON object');
  return input as Record<string, unknown>;
}

/**
 * The permissions an AWS API request needs: JSON protocols by their X-Amz-Target, S3 by method, path and query.
 * A secret named by name or partial ARN is evaluated against its full ARN, as IAM does (`secretArn` finds it).
 * Throws UnreadableRequest (or a parse error) for a request it cannot read: the proxy refuses those.
 */
export function permissionsOf(method: string, url: string, headers: IncomingMessage['headers'], body: Buffer, secretArn: (id: string) => string | undefined = () => undefined): Permission[] {
  const target = String(headers['x-amz-target'] ?? '');
  if (!target && isSnsRequest(headers)) return snsPermissions(headers, body);
  if (!target) return s3Permissions(method, url, headers);
  const [prefix = '', operation = ''] = target.split('.');
  const input = jsonInput(headers, body);
  if (prefix.startsWith('DynamoDBStreams_')) return [{ action: `dynamodb:${operation}`, resource: String(input.StreamArn ?? '*') }];
  if (prefix.startsWith('DynamoDB_')) return dynamodbPermissions(operation, input);
  if (prefix.startsWith('Kinesis_')) return [{ action: `kinesis:${operation}`, resource: String(input.StreamARN ?? arn.stream(String(input.StreamName))) }];
  if (prefix.startsWith('AmazonSQS'))
    return [
      {
        action: `sqs:${operation}`,
        resource: arn.queue(
          String(input.QueueUrl ?? '')
            .split('/')
            .pop()!,
        ),
      },
    ];
  if (prefix === 'secretsmanager') {
    const id = String(input.SecretId ?? '*');
    return [{ action: `secretsmanager:${operation}`, resource: secretArn(id) ?? (id.startsWith('arn:') ? id : arn.secret(id)) }];
  }
  return [{ action: target, resource: '*' }];
}

/** A permission a bucket policy's explicit Deny refuses (AWS words its denial otherwise), or a key's use refused and why. */
type Refusal = Permission & { byResourcePolicy?: true; reason?: string };

/** The error each protocol answers with, as AWS words it. */
function denial(json: boolean, principal: string, refused: Refusal | UnreadableRequest) {
  const because = (p: Refusal) => p.reason ?? (p.byResourcePolicy ? 'with an explicit deny in a resource-based policy' : `because no identity-based policy allows the ${p.action} action`);
  const message =
    refused instanceof UnreadableRequest
      ? `User: ${principal} is denied this request: ${refused.message}; the local IAM proxy refuses what it cannot check`
      : `User: ${principal} is not authorized to perform: ${refused.action} on resource: ${refused.resource} ${because(refused)}`;
  return json
    ? { status: 400, type: 'application/x-amz-json-1.0', body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message }) }
    : { status: 403, type: 'application/xml', body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${message}</Message></Error>` };
}

export interface Targets {
  s3: string;
  dynamodb: string;
  kinesis: string;
  sqs: string;
  /** fauxqs serves SNS on its SQS endpoint. */
  sns: string;
  secretsmanager: string;
}

/** Which emulator serves a request: JSON protocols by their X-Amz-Target prefix, the rest is S3. */
function targetOf(target: string, targets: Targets): string {
  if (target.startsWith('DynamoDB')) return targets.dynamodb;
  if (target.startsWith('Kinesis')) return targets.kinesis;
  if (target.startsWith('AmazonSQS')) return targets.sqs;
  if (target.startsWith('secretsmanager.')) return targets.secretsmanager;
  return targets.s3;
}

export type IamProxy = Listening;

/**
 * One function's way to the emulated services: every request is checked against the function's role, as IAM
 * would, before it is passed on unchanged (the Host header too, so S3 signatures still verify). The emulators
 * themselves accept any credentials.
 */
export async function startIamProxy(
  principal: string,
  statements: Statement[],
  targets: Targets,
  onDenied: (refused: Permission | UnreadableRequest) => void,
  secretArn?: (id: string) => string | undefined,
  /** Whether a resource policy (a bucket policy) explicitly denies an S3 request: iam-bucket-policy.ts. */
  resourceDenies: (permission: Permission, headers: IncomingMessage['headers']) => boolean = () => false,
  /** A session's request context (its tags): given, the role's conditions and policy variables are evaluated. */
  identityContext?: (headers: IncomingMessage['headers']) => RequestContext,
  /** The key permission refused for an allowed request to a store under a customer managed key (keys.ts). */
  keyRefusal: (permission: Permission, context: RequestContext | undefined) => Refusal | undefined = () => undefined,
): Promise<IamProxy> {
  // Few idle connections to the emulators are kept: a storm of requests must not leave hundreds open.
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 8 });
  const server = createServer((req, res) => handle(req, res, false));
  // A caller that waits for 100 Continue before its body (the SDK's large PUTs) is judged before it sends a byte.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => handle(req, res, true));

  function handle(req: IncomingMessage, res: ServerResponse, expecting: boolean) {
    if (refusedHost(req, res)) return;
    const target = String(req.headers['x-amz-target'] ?? '');
    // S3 is judged from the request line and headers, its body streamed on as it comes (never held here); a JSON or
    // SNS call names its resource in a small body, read first up to what any of those APIs accepts.
    if (!target && !isSnsRequest(req.headers)) return judge(req, res, target, undefined, expecting);
    if (expecting) res.writeContinue();
    readApiBody(req).then(
      (body) => (body ? judge(req, res, target, body, false) : refuse(req, res, target, new UnreadableRequest(`its body is over ${MAX_API_BODY} bytes`), false)),
      () => res.destroy(),
    );
  }

  /**
   * A caller waiting for 100 Continue sends no body: it is answered at once, and the connection closed. Any other
   * caller's body is read to its end and dropped, never kept, before the answer (answered first, Node would stop
   * reading the connection, and the caller's upload would stall until the keep-alive timeout cut it).
   */
  function refuse(req: IncomingMessage, res: ServerResponse, target: string, refused: Refusal | UnreadableRequest, expecting: boolean) {
    onDenied(refused);
    const d = denial(Boolean(target), principal, refused);
    const answer = () => res.writeHead(d.status, { 'content-type': d.type, 'x-amzn-errortype': 'AccessDeniedException', ...(expecting ? { connection: 'close' } : {}) }).end(d.body);
    if (expecting || req.readableEnded) return answer();
    req
      .on('end', answer)
      .on('error', () => res.destroy())
      .resume();
  }

  /** `body` is a read API call's; without one, the request's body is streamed on once it is allowed. */
  function judge(req: IncomingMessage, res: ServerResponse, target: string, body: Buffer | undefined, expecting: boolean) {
    let permissions: Permission[] = [];
    let refused: Refusal | UnreadableRequest | undefined;
    try {
      permissions = permissionsOf(req.method ?? 'GET', req.url ?? '/', req.headers, body ?? Buffer.alloc(0), secretArn);
      const denied = !target && permissions.find((p) => resourceDenies(p, req.headers));
      const context = identityContext?.(req.headers);
      refused = permissions.find((p) => !allows(statements, p, context)) ?? (denied ? { ...denied, byResourcePolicy: true } : undefined);
      // Allowed the store, a request may still be refused its key: AWS checks the caller's use of it through the store.
      for (const p of refused ? [] : permissions) refused ??= keyRefusal(p, context);
    } catch (error) {
      // Fail closed: what cannot be read cannot be checked, and the emulator might read it otherwise.
      refused = error instanceof UnreadableRequest ? error : new UnreadableRequest(`it cannot be read (${(error as Error).message})`, { cause: error });
    }
    if (refused) return refuse(req, res, target, refused, expecting);
    const base = new URL(!target && isSnsRequest(req.headers) ? targets.sns : targetOf(target, targets));
    const upstream = forward({ host: base.hostname, port: base.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      const read = permissions[0];
      // S3 answers a missing key with 403, not 404, to whoever may not list the bucket: it would tell them it is missing.
      const listing = !target && read?.action === 's3:GetObject' ? { action: 's3:ListBucket', resource: read.resource.split('/')[0]! } : undefined;
      if (answer.statusCode === 404 && listing && !allows(statements, listing)) {
        answer.resume();
        const d = denial(false, principal, listing);
        res.writeHead(d.status, { 'content-type': d.type }).end(req.method === 'HEAD' ? undefined : d.body);
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      // pipeline, not pipe: a caller that goes away (a refused file read no further than its header) destroys the
      // emulator's answer too, which pipe left open, holding a socket and its unread data for good.
      pipeline(answer, res, () => undefined);
    });
    upstream.on('error', (e) => (res.headersSent ? res.destroy() : res.writeHead(502).end(String(e))));
    // A caller gone before the answer came takes the upstream request with it.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (body) return upstream.end(body);
    if (expecting) res.writeContinue();
    pipeline(req, upstream, () => undefined);
  }
  const listening = await listenOnLoopback(server);
  return {
    ...listening,
    stop: async () => {
      await listening.stop();
      agent.destroy();
    },
  };
}

/** What a JSON or query API request may carry: DynamoDB's 16 MB limit, which is the largest of those proxied. */
const MAX_API_BODY = 16 * 1024 * 1024;

/** The body of an API call, or undefined when it is over MAX_API_BODY (the rest is left for the refusal to drop). */
function readApiBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const take = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_API_BODY) return chunks.push(chunk);
      req.off('data', take);
      resolve(undefined);
    };
    req.on('data', take);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
