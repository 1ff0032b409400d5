import { createServer, request as forward, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { arn } from './template';

/** One statement of a role's inline policies, its intrinsics resolved. */
export interface Statement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
}
/** What one AWS API request asks to do, as IAM names it. */
export interface Permission {
  action: string;
  resource: string;
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
 * The permissions an AWS API request needs: JSON protocols by their X-Amz-Target, S3 by method, path and query.
 * A secret named by name or partial ARN is evaluated against its full ARN, as IAM does (`secretArn` finds it).
 */
export function permissionsOf(method: string, url: string, headers: IncomingMessage['headers'], body: Buffer, secretArn: (id: string) => string | undefined = () => undefined): Permission[] {
  const target = String(headers['x-amz-target'] ?? '');
  if (target) {
    const [prefix = '', operation = ''] = target.split('.');
    const input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    if (prefix.startsWith('DynamoDBStreams_')) return [{ action: `dynamodb:${operation}`, resource: String(input.StreamArn ?? '*') }];
    if (prefix.startsWith('DynamoDB_')) {
      const tables = input.TableName ? [String(input.TableName)] : Object.keys((input.RequestItems ?? {}) as object);
      const index = input.IndexName ? `/index/${String(input.IndexName)}` : '';
      return tables.map((t) => ({ action: `dynamodb:${operation}`, resource: `${arn.table(t)}${index}` }));
    }
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
  // S3, path style: /<bucket>/<key>?<query>
  const { pathname, searchParams } = new URL(url, 'http://s3');
  const [, bucket = '', ...rest] = pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const object = `${arn.bucket(bucket)}/${key}`;
  if (!key) {
    if (method === 'GET' || method === 'HEAD') return [{ action: 's3:ListBucket', resource: arn.bucket(bucket) }];
    if (method === 'POST' && searchParams.has('delete')) return [{ action: 's3:DeleteObject', resource: `${arn.bucket(bucket)}/*` }];
    return [{ action: method === 'PUT' ? 's3:CreateBucket' : `s3:${method}Bucket`, resource: arn.bucket(bucket) }];
  }
  if (method === 'GET' || method === 'HEAD') return [{ action: 's3:GetObject', resource: object }];
  if (method === 'DELETE') return [{ action: searchParams.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject', resource: object }];
  const copySource = headers['x-amz-copy-source'];
  const source = copySource ? [{ action: 's3:GetObject', resource: arn.bucket(decodeURIComponent(String(copySource).replace(/^\//, '').split('?')[0]!)) }] : [];
  return [{ action: 's3:PutObject', resource: object }, ...source];
}

/** The error each protocol answers with, as AWS words it. */
function denial(json: boolean, principal: string, { action, resource }: Permission) {
  const message = `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
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
export interface IamProxy {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * One function's way to the emulated services: every request is checked against the function's role, as IAM
 * would, before it is passed on unchanged (the Host header too, so S3 signatures still verify). The emulators
 * themselves accept any credentials.
 */
export async function startIamProxy(
  principal: string,
  statements: Statement[],
  targets: Targets,
  onDenied: (p: Permission) => void,
  secretArn?: (id: string) => string | undefined,
): Promise<IamProxy> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = String(req.headers['x-amz-target'] ?? '');
      let permissions: Permission[];
      try {
        permissions = permissionsOf(req.method ?? 'GET', req.url ?? '/', req.headers, body, secretArn);
      } catch {
        permissions = []; // a body that is not JSON: the emulator refuses it with the service's own error
      }
      const refused = permissions.find((p) => !allows(statements, p));
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
        if (!target && answer.statusCode === 404 && read?.action === 's3:GetObject' && !allows(statements, { action: 's3:ListBucket', resource: read.resource.split('/')[0]! })) {
          answer.resume();
          const d = denial(false, principal, { action: 's3:ListBucket', resource: read.resource.split('/')[0]! });
          res.writeHead(d.status, { 'content-type': d.type }).end(req.method === 'HEAD' ? undefined : d.body);
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (e) => res.writeHead(502).end(String(e)));
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
