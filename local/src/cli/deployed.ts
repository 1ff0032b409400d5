import { CloudFormationClient, type Export, paginateListExports } from '@aws-sdk/client-cloudformation';
import type { AwsCredentialIdentity } from '@smithy/types';
import { awsClients } from '@dataharvest/shared/aws';
import { CloudError } from '../cloud/errors';
import { type Connection, connection, runningCloud } from './connection';
import { UsageError } from './errors';

/** Where a command runs: a deployed stage (`--stage S [--region R]`), or else the local cloud of the data dir. */
export interface Target {
  stage?: string;
  region?: string;
  dataDir: string;
}

/**
 * Runs a command against its target. On a deployed stage, what AWS refuses (no credentials, no permission, an
 * expired session) is one line naming the stage and region, not a stack trace.
 */
export async function onTarget(target: Target, command: (on: Connection) => Promise<number>): Promise<number> {
  if (!target.stage) {
    if (target.region) throw new UsageError('--region goes with --stage: without --stage the command uses the local cloud');
    return command(runningCloud(target.dataDir));
  }
  const region = target.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError(`--stage ${target.stage} needs --region R (or AWS_REGION)`);
  try {
    return await command(await deployedStage(target.stage, region));
  } catch (error) {
    throw awsError(error, target.stage, region);
  }
}

/**
 * The deployment of a stage, from its stacks' CloudFormation exports in the region, with AWS clients for that region
 * through the default credential chain (environment, profile, SSO, instance role …) unless `reach` gives credentials.
 */
export async function deployedStage(stage: string, region: string, reach: { credentials?: AwsCredentialIdentity; cloudformationEndpoint?: string } = {}): Promise<Connection> {
  // The CLI sets no endpoint: AWS's own ones, unless the environment overrides them as the SDK allows. Say so when it
  // does, lest a shell that still points at a local cloud pass that cloud off as the stage.
  const overrides = Object.keys(process.env).filter((name) => name.startsWith('AWS_ENDPOINT_URL') && process.env[name]);
  if (overrides.length) process.stderr.write(`dataharvest: stage ${stage} is reached through the endpoints of ${overrides.sort().join(', ')}\n`);
  const prefix = `dataharvest-${stage}-`;
  const exports: Record<string, string> = {};
  const cloudformation = new CloudFormationClient({ region, credentials: reach.credentials, endpoint: reach.cloudformationEndpoint });
  for await (const page of paginateListExports({ client: cloudformation }, {})) {
    for (const e of page.Exports ?? ([] as Export[])) if (e.Name?.startsWith(prefix) && e.Value !== undefined) exports[e.Name] = e.Value;
  }
  const deployment = { stage, exports };
  const table = `${prefix}metastore-table`;
  if (!exports[table]) throw new CloudError(`stage ${stage} is not deployed in ${region}: no CloudFormation export ${table}`);
  return connection(deployment, awsClients({ region, credentials: reach.credentials }));
}

/** An AWS SDK error (credentials, a service's refusal, an unreachable endpoint) as the CLI's one-line CloudError. */
function awsError(error: unknown, stage: string, region: string): unknown {
  if (error instanceof CloudError || error instanceof UsageError || !(error instanceof Error)) return error;
  const fromAws = error.name === 'CredentialsProviderError' || '$metadata' in error || (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  if (!fromAws) return error;
  const message = error.message.split('\n')[0] || error.name;
  return new CloudError(`stage ${stage} in ${region}: ${error.name === 'CredentialsProviderError' ? 'no AWS credentials: ' : ''}${message}`, { cause: error });
}
