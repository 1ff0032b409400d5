import { request as forward, type IncomingMessage } from 'node:http';
import { bufferingServer, type Listening, listenOnLoopback } from './http';
import { dynamodbPermissions } from './iam-dynamodb';
import { UnreadableRequest, type Permission } from './iam-request';
import { s3Permissions } from './iam-s3';
import { arn } from './template';

/** One statement of a role's inline policies, its intrinsics resolved. */
export interface Statement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
}
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** The statements of a role resource's inline policies (`Policies[].PolicyDocument.Statement`). */
export function roleStatements(roleProperties: Record<string, unknown> | undefined): Statement[] {
  const policies = (roleProperties?.Policies ?? []) as Array<{ PolicyDocument?: { Statement?: unknown } }>;
  // A policy's Statement is one statement or a list of them.
  return policies
    .flatMap((p) => ([] as Array<Record<string, unknown>>).concat((p.PolicyDocument?.Statement ?? []) as never))
    .map((s) => ({ effect: s.Effect === 'Deny' ? 'Deny' : 'Allow', actions: list(s.Action), resources: list(s.Resource) }));
}

/** IAM's wildcards: `*` any run of characters, `?` any one; actions are case-insensitive. */
const glob = (pattern: string, flags = '') =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    `s${flags}`,
  );

/**
 * Whether the statements allow the permission: an explicit Deny wins, then any Allow, else the implicit deny.
 * Conditions are not evaluated (a statement with one counts as matching), so a condition only ever narrows on AWS.
 */
export function allows(statements: Statement[], { action, resource }: Permission): boolean {
  const matches = (s: Statement) => s.actions.some((a) => glob(a, 'i').test(action)) && s.resources.some((r) => glob(r).test(resource));
  if (statements.some((s) => s.effect === 'Deny' && matches(s))) return false;
  return statements.some((s) => s.effect === 'Allow' && matches(s));
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

/** The error each protocol answers with, as AWS words it. */
function denial(json: boolean, principal: string, refused: Permission | UnreadableRequest) {
  const message =
    refused instanceof UnreadableRequest
      ? `User: ${principal} is denied this request: ${refused.message}; the local IAM proxy refuses what it cannot check`
      : `User: ${principal} is not authorized to perform: ${refused.action} on resource: ${refused.resource} because no identity-based policy allows the ${refused.action} action`;
  return json
    ? { status: 400, type: 'application/x-amz-json-1.0', body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message }) }
    : { status: 403, type: 'application/xml', body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${message}</Message></Error>` };
}

export interface Targets {
  s3: string;
  dynamodb: string;
  kinesis: string;
  sqs: string;
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
): Promise<IamProxy> {
  const server = bufferingServer((req, body, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    let permissions: Permission[] = [];
    let refused: Permission | UnreadableRequest | undefined;
    try {
      permissions = permissionsOf(req.method ?? 'GET', req.url ?? '/', req.headers, body, secretArn);
      refused = permissions.find((p) => !allows(statements, p));
    } catch (error) {
      // Fail closed: what cannot be read cannot be checked, and the emulator might read it otherwise.
      refused = error instanceof UnreadableRequest ? error : new UnreadableRequest(`it cannot be read (${(error as Error).message})`);
    }
    if (refused) {
      onDenied(refused);
      const d = denial(Boolean(target), principal, refused);
      res.writeHead(d.status, { 'content-type': d.type, 'x-amzn-errortype': 'AccessDeniedException' }).end(d.body);
      return;
    }
    const base = new URL(targetOf(target, targets));
    const upstream = forward({ host: base.hostname, port: base.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
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
      answer.pipe(res);
    });
    upstream.on('error', (e) => res.writeHead(502).end(String(e)));
    upstream.end(body);
  });
  return listenOnLoopback(server);
}
