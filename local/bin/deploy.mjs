#!/usr/bin/env node
// `npm run deploy -- --stage <stage> [--region <region>]`: names the account the credentials belong to (the ingest
// bucket's globally unique name carries it), then deploys every stack through serverless-compose.yml.
import { spawn } from 'node:child_process';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!flag('--stage')) {
  console.error('usage: npm run deploy -- --stage <stage> [--region <region>]');
  process.exit(2);
}
const region = flag('--region') ?? process.env.AWS_REGION ?? 'eu-central-1';
let account;
try {
  ({ Account: account } = await new STSClient({ region }).send(new GetCallerIdentityCommand({})));
} catch (error) {
  console.error(`deploy: cannot tell which AWS account to deploy to: ${error.message}`);
  process.exit(1);
}
console.error(`deploying stage ${flag('--stage')} to account ${account} in ${region}`);
const child = spawn('serverless', ['deploy', ...args], { stdio: 'inherit', env: { ...process.env, DATAHARVEST_ACCOUNT_ID: account, SLS_TELEMETRY_DISABLED: '1' } });
child.on('exit', (code) => process.exit(code ?? 1));
