import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Contribution } from '@dataharvest/events/batch';
import { startServices, type Services } from '../../local/src/cloud/emulators/services';
import { context } from '../../test/support/chain';
import { testClients } from '../../test/support/clients';
import { createMetastoreStack } from '../../test/support/metastore-stack';
import { logger } from '../src/logger';
import { createMetastore, type Metastore } from '../src/metastore';
import { createRegistration } from '../src/registration';

/** Transformer stacks deploy at once (osls compose, the local cloud): their registrations run concurrently. */
describe('transformer registration against DynamoDB Local', () => {
  let services: Services;
  let m: Metastore;
  let server: Server;
  const answers = new Map<string, { Status: string; Reason?: string }>();

  beforeAll(async () => {
    services = await startServices();
    const stack = await createMetastoreStack(services);
    m = createMetastore(testClients(services).dynamo, `dataharvest-metastore-${stack.stage}`);
    logger.setLogLevel('SILENT'); // the refusals' error logs are expected
    // CloudFormation's side: the ResponseURL each registration PUTs its answer to, by request id.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        answers.set(req.url!.slice(1), JSON.parse(body) as { Status: string; Reason?: string });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server?.close();
    await services?.stop();
  });

  const create = async (name: string, contribution: Contribution) => {
    const event = {
      RequestType: 'Create',
      ResponseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${name}`,
      StackId: `arn:aws:cloudformation:eu-central-1:000000000000:stack/dataharvest-${name}-dev/1`,
      RequestId: name,
      LogicalResourceId: 'Registration',
      ResourceType: 'Custom::TransformerRegistration',
      ResourceProperties: { ServiceToken: 'x', Name: name, Required: 'true' },
    } as unknown as CloudFormationCustomResourceEvent;
    await createRegistration(m, contribution)(event, context);
    return answers.get(name)!;
  };

  it('gives a field one owner when two transformers claiming it register at once', async () => {
    const claim: Contribution = { view: 'v', fields: { shared_amount: 'money' } };
    const [first, second] = await Promise.all([create('alpha', { ...claim, view: 'alpha' }), create('beta', { ...claim, view: 'beta' })]);
    expect([first.Status, second.Status]).toContain('FAILED');
    const owners = (await m.listRegistry()).filter((e) => e.contribution?.fields.shared_amount);
    expect(owners.length).toBeLessThanOrEqual(1);
    for (const answer of [first, second].filter((a) => a.Status === 'FAILED')) expect(answer.Reason).toMatch(/contributes shared_amount \(already (alpha|beta)'s\): name its fields after itself/);
  });

  it('registers transformers with fields of their own at once, and refuses a later claim leaving the registry as it was', async () => {
    const answers = await Promise.all([create('gamma', { view: 'gamma', fields: { gamma_total: 'integer' } }), create('delta', { view: 'delta', fields: { delta_flag: 'boolean' } })]);
    expect(answers.map((a) => a.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    const refused = await create('epsilon', { view: 'epsilon', fields: { gamma_total: 'integer' } });
    expect(refused).toMatchObject({ Status: 'FAILED', Reason: "epsilon contributes gamma_total (already gamma's): name its fields after itself" });
    const registry = await m.listRegistry();
    expect(registry.map((e) => e.name)).toEqual(expect.arrayContaining(['gamma', 'delta']));
    expect(registry.map((e) => e.name)).not.toContain('epsilon');
  });
});
