import { jest } from '@jest/globals';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { deployedStage } from '../src/cli/deployed';
import { type CloudFormation, startCloudFormation } from '../src/cloud/cloudformation/list-exports';

const exported = [
  ...Array.from({ length: 5 }, (_, i) => ({ name: `dataharvest-x-thing-${i}`, value: `value <${i}> & more`, stackName: 'dataharvest-things-x' })),
  { name: 'dataharvest-x-metastore-table', value: 'dataharvest-metastore-x', stackName: 'dataharvest-metastore-x' },
  { name: 'dataharvest-xy-metastore-table', value: 'another stage', stackName: 'dataharvest-metastore-xy' },
  { name: 'someone-else', value: 'not ours', stackName: 'other' },
];

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let cf: CloudFormation;
beforeAll(async () => {
  cf = await startCloudFormation({ exports: () => exported, pageSize: 2 });
});
afterAll(() => cf.stop());

describe('the local CloudFormation and deployedStage', () => {
  it('finds a stage from its exports over every page of ListExports, and no other stage', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { deployment, aws, metastore } = await deployedStage('x', 'eu-west-1', { credentials, cloudformationEndpoint: cf.endpoint });
    stderr.mockRestore();
    expect(deployment).toEqual({
      stage: 'x',
      exports: {
        'dataharvest-x-metastore-table': 'dataharvest-metastore-x',
        ...Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`dataharvest-x-thing-${i}`, `value <${i}> & more`])),
      },
    });
    // The stage's clients are in its region, its metastore on the table the stage exports.
    expect(await aws.dynamo.config.region()).toBe('eu-west-1');
    expect(metastore.tableName).toBe('dataharvest-metastore-x');
  });

  it('refuses what it does not answer as CloudFormation does, in its XML', async () => {
    const client = new CloudFormationClient({ region: 'eu-central-1', credentials, endpoint: cf.endpoint });
    await expect(client.send(new DescribeStacksCommand({}))).rejects.toMatchObject({ name: 'InvalidAction', $metadata: { httpStatusCode: 400 } });
  });
});
