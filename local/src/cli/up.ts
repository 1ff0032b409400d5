import { startCloud } from '../cloud/index';
import { announceCloud } from './connection';

/** `dataharvest up`: the local cloud in the foreground until Ctrl-C, its endpoints printed for other tools. */
export async function up(dataDir: string): Promise<number> {
  const cloud = await startCloud({ dataDir, log: (l) => process.stdout.write(`${l}\n`) });
  const forget = announceCloud(dataDir, cloud);
  process.stdout.write(
    [
      `local cloud up (data in ${dataDir}); Ctrl-C stops it`,
      `  S3        ${cloud.endpoints.s3}`,
      `  DynamoDB  ${cloud.endpoints.dynamodb}`,
      `  Kinesis   ${cloud.endpoints.kinesis}`,
      `  SQS       ${cloud.endpoints.sqs}`,
      `  Postgres  ${cloud.postgresUrl.replace(/\/\/[^@]*@/, '//')}`,
      `  functions ${cloud.functions.join(', ')}`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
  process.stdout.write('stopping…\n');
  forget();
  await cloud.stop();
  return 0;
}
