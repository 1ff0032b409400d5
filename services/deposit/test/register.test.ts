import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { logger } from '@dataharvest/shared/logger';
import { createMetastore } from '@dataharvest/shared/metastore';
import { createRegistration } from '@dataharvest/shared/registration';
import { contributionOf } from '@dataharvest/shared/transformer';
import { loadStack } from '../../../local/src/cloud/cloudformation/template';
import { context, startChain, type Chain } from '../../../test/support/chain';
import { definition } from '../src/handler';

describe('deposit registers itself: the Registration custom resource of its own template', () => {
  let chain: Chain;
  let server: Server;
  const answers: Array<{ headers: Record<string, unknown>; body: Record<string, unknown> }> = [];

  beforeAll(async () => {
    chain = await startChain();
    logger.setLogLevel('SILENT'); // the failure test's error log is expected
    // CloudFormation's side: the pre-signed ResponseURL the handler must PUT its answer to.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        answers.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server?.close();
    await chain?.stop();
  });

  it('adds the entry on Create, keeps it on Update, removes it on Delete, answering CloudFormation each time', async () => {
    // What src/register.ts builds from the function's environment, on the chain's metastore.
    const handler = createRegistration(chain.metastore, contributionOf(definition));
    const { Registration } = loadStack('services/deposit').template.Resources;
    expect(Registration).toMatchObject({ Type: 'Custom::TransformerRegistration', Properties: { Name: 'deposit', Required: 'true' } });
    const request = (RequestType: string) =>
      ({
        RequestType,
        ResponseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/answer`,
        StackId: 'arn:aws:cloudformation:eu-central-1:000000000000:stack/dataharvest-deposit-dev/1',
        RequestId: `req-${RequestType}`,
        LogicalResourceId: 'Registration',
        ResourceType: 'Custom::TransformerRegistration',
        ResourceProperties: Registration!.Properties,
        ...(RequestType === 'Create' ? {} : { PhysicalResourceId: 'transformer-deposit' }),
      }) as unknown as CloudFormationCustomResourceEvent;

    // startChain registered deposit already, as a deployed stack would have; start from a clean registry entry.
    await handler(request('Delete'), context);
    expect((await chain.metastore.listRegistry()).map((e) => e.name)).not.toContain('deposit');
    await handler(request('Create'), context);
    await handler(request('Update'), context);
    expect((await chain.metastore.listRegistry()).find((e) => e.name === 'deposit')).toMatchObject({ name: 'deposit', required: true });
    await handler(request('Delete'), context);
    expect((await chain.metastore.listRegistry()).map((e) => e.name)).not.toContain('deposit');

    expect(answers.map((a) => a.body.Status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(answers[1]!.body).toMatchObject({
      PhysicalResourceId: 'transformer-deposit',
      RequestId: 'req-Create',
      LogicalResourceId: 'Registration',
      StackId: expect.stringContaining('dataharvest-deposit-dev'),
    });
    expect(answers[1]!.headers['content-type']).toBe('');
  });

  it('answers FAILED with a reason when the registry cannot be written', async () => {
    const handler = createRegistration(createMetastore(chain.aws.dynamo, 'no-such-table'), contributionOf(definition));
    await handler(
      {
        RequestType: 'Create',
        ResponseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/answer`,
        StackId: 's',
        RequestId: 'r',
        LogicalResourceId: 'Registration',
        ResourceType: 'Custom::TransformerRegistration',
        ResourceProperties: { ServiceToken: 'x', Name: 'deposit', Required: 'true' },
      } as unknown as CloudFormationCustomResourceEvent,
      context,
    );
    expect(answers.at(-1)!.body).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/table/i), PhysicalResourceId: 'transformer-deposit' });
  });
});
