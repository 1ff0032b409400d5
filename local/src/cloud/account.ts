/**
 * The one region and account of the local cloud. Every name and ARN it hands out carries them, as AWS's would, so
 * that policies and templates name resources as they do on AWS. Imports nothing: anything may import it.
 */
export const REGION = 'eu-central-1';
export const ACCOUNT = '000000000000';

export const arn = {
  table: (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`,
  queue: (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  stream: (name: string) => `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${name}`,
  bucket: (name: string) => `arn:aws:s3:::${name}`,
  function: (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
  secret: (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}`,
};
