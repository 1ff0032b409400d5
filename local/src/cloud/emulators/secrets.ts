import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferingServer, listenOnLoopback } from '../http';
import { arn } from '../account';

/** One secret as Secrets Manager keeps it (its current version only). */
interface Secret {
  arn: string;
  name: string;
  value: string;
  versionId: string;
  created: number;
}

export interface SecretsManager {
  endpoint: string;
  /** Creates or (a redeploy) keeps a secret; returns its ARN. */
  create(name: string, value: () => string): string;
  /** Replaces the secret's value, as PutSecretValue does. */
  put(secretId: string, value: string): void;
  /** Resolves a name or ARN (full, or without its random suffix) as Secrets Manager does. */
  get(secretId: string): { arn: string; value: string } | undefined;
  stop(): Promise<void>;
}

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });
const notFound = (id: string) => json(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret.", SecretId: id });

/**
 * A small Secrets Manager on loopback: the JSON 1.1 API that functions call (GetSecretValue, DescribeSecret,
 * PutSecretValue). Secrets persist in the data dir when it does, as the database they unlock does.
 */
export async function startSecretsManager(dir: string | undefined): Promise<SecretsManager> {
  const file = dir ? join(dir, 'secrets.json') : undefined;
  const secrets = new Map<string, Secret>(file && existsSync(file) ? Object.entries(JSON.parse(readFileSync(file, 'utf8'))) : []);
  const save = () => file && writeFileSync(file, JSON.stringify(Object.fromEntries(secrets)), { mode: 0o600 });
  const find = (id: string) => secrets.get(id) ?? [...secrets.values()].find((s) => s.arn === id || s.arn.slice(0, -7) === id);

  const operations: Record<string, (input: Record<string, string>) => { status: number; body: string }> = {
    GetSecretValue: ({ SecretId = '' }) => {
      const s = find(SecretId);
      return s ? json(200, { ARN: s.arn, Name: s.name, SecretString: s.value, VersionId: s.versionId, VersionStages: ['AWSCURRENT'], CreatedDate: s.created }) : notFound(SecretId);
    },
    DescribeSecret: ({ SecretId = '' }) => {
      const s = find(SecretId);
      return s ? json(200, { ARN: s.arn, Name: s.name, CreatedDate: s.created, VersionIdsToStages: { [s.versionId]: ['AWSCURRENT'] } }) : notFound(SecretId);
    },
    PutSecretValue: ({ SecretId = '', SecretString = '' }) => {
      const s = find(SecretId);
      if (!s) return notFound(SecretId);
      manager.put(s.arn, SecretString);
      return json(200, { ARN: s.arn, Name: s.name, VersionId: find(s.arn)!.versionId, VersionStages: ['AWSCURRENT'] });
    },
  };

  const server = bufferingServer((req, body, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, '');
    const handle = operations[operation];
    let answer = json(400, { __type: 'InvalidRequestException', message: `${operation || 'this operation'} is not supported by the local Secrets Manager` });
    try {
      if (handle) answer = handle(JSON.parse(body.toString('utf8') || '{}'));
    } catch {
      answer = json(400, { __type: 'InvalidRequestException', message: 'the request body is not JSON' });
    }
    res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' }).end(answer.body);
  });
  const { endpoint, stop } = await listenOnLoopback(server);

  const manager: SecretsManager = {
    endpoint,
    create(name, value) {
      const existing = secrets.get(name);
      if (existing) return existing.arn;
      // Secrets Manager appends six random characters, so an ARN never names a deleted secret's successor.
      const secret = { arn: `${arn.secret(name)}-${randomBytes(4).toString('base64url').slice(0, 6)}`, name, value: value(), versionId: crypto.randomUUID(), created: Date.now() / 1000 };
      secrets.set(name, secret);
      save();
      return secret.arn;
    },
    put(secretId, value) {
      const s = find(secretId);
      if (!s) throw new Error(`no secret ${secretId}`);
      secrets.set(s.name, { ...s, value, versionId: crypto.randomUUID() });
      save();
    },
    get(secretId) {
      const s = find(secretId);
      return s && { arn: s.arn, value: s.value };
    },
    stop,
  };
  return manager;
}
