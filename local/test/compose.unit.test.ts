import { checkImports, type ComposedStack, deployInDependencyOrder, readCompose } from '../src/cloud/cloudformation/compose';
import { CloudError } from '../src/cloud/errors';
import type { Template } from '../src/cloud/cloudformation/template';

/** A deploy whose stacks finish only when the test says so, recording which ones are running at each step. */
function controlledDeploy() {
  const running = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const deploy = (s: { composeName: string }) =>
    new Promise<void>((resolve, reject) => {
      running.set(s.composeName, { resolve, reject });
    }).finally(() => running.delete(s.composeName));
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  const names = () => [...running.keys()].sort();
  const finish = async (...stacks: string[]) => {
    for (const s of stacks) running.get(s)!.resolve();
    await settle();
  };
  const fail = async (stack: string, error: Error) => {
    running.get(stack)!.reject(error);
    await settle();
  };
  return { deploy, names, finish, fail, settle };
}

/** What waits for the database besides the metastore (the notifier and the delivery check need the metastore alone). */
const AFTER_DATABASE = ['catapult', 'deposit', 'history', 'loader', 'relationship', 'tax', 'transaction'];

describe('deployInDependencyOrder over serverless-compose.yml', () => {
  const services = readCompose('.').map((s) => ({ ...s, composeName: s.name }));

  it('deploys each stack as soon as all it depends on is deployed, independent ones at once', async () => {
    const d = controlledDeploy();
    const deployed = deployInDependencyOrder(services, d.deploy);
    await d.settle();
    expect(d.names()).toEqual(['metastore']);
    await d.finish('metastore');
    // The database's alarms notify the metastore's alarm topic; the notifier and the delivery check need only the metastore.
    expect(d.names()).toEqual(['database', 'delivery', 'notifier']);
    await d.finish('database', 'delivery', 'notifier');
    expect(d.names()).toEqual(AFTER_DATABASE);
    await d.finish(...AFTER_DATABASE.filter((s) => s !== 'tax'));
    // Persistence creates the ingest bucket: never before every transformer has registered.
    expect(d.names()).toEqual(['tax']);
    await d.finish('tax');
    expect(d.names()).toEqual(['persistence']);
    await d.finish('persistence');
    expect(d.names()).toEqual(['privacy']);
    await d.finish('privacy');
    await expect(deployed).resolves.toBeUndefined();
  });

  it('starts nothing after a failure and rejects with it once the running stacks have settled', async () => {
    const d = controlledDeploy();
    const deployed = deployInDependencyOrder(services, d.deploy);
    let outcome: unknown;
    deployed.catch((e: unknown) => {
      outcome = e;
    });
    await d.finish('metastore');
    await d.finish('database', 'delivery', 'notifier');
    const refused = new CloudError('dataharvest-tax-dev: could not create Queue');
    await d.fail('tax', refused);
    expect(outcome).toBeUndefined();
    await d.finish(...AFTER_DATABASE.filter((s) => s !== 'tax'));
    expect(d.names()).toEqual([]);
    expect(outcome).toBe(refused);
  });

  it('rejects stacks whose dependencies are not among those given', async () => {
    await expect(deployInDependencyOrder([{ composeName: 'a', dependsOn: ['missing'] }], async () => {})).rejects.toThrow('these stacks depend on stacks never deployed: a');
  });
});

const composed = (composeName: string, dependsOn: string[], template: Template): ComposedStack => ({
  composeName,
  dependsOn,
  service: `dataharvest-${composeName}`,
  dir: `/nowhere/${composeName}`,
  stackName: `dataharvest-${composeName}-dev`,
  stage: 'dev',
  template,
});
const exporting = (name: string): Template => ({ Resources: {}, Outputs: { Out: { Value: 'v', Export: { Name: name } } } });
const importing = (name: string): Template => ({ Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { Tags: [{ Value: { 'Fn::ImportValue': name } }] } } } });

describe('checkImports', () => {
  it('accepts imports of stacks depended on, directly or through another', () => {
    const stacks = [composed('metastore', [], exporting('table')), composed('loader', ['metastore'], { Resources: {} }), composed('persistence', ['loader'], importing('table'))];
    expect(() => checkImports(stacks)).not.toThrow();
  });

  it('refuses an import of a stack not depended on, naming both', () => {
    const stacks = [composed('loader', [], exporting('dataharvest-dev-chunk-stream-arn')), composed('persistence', [], importing('dataharvest-dev-chunk-stream-arn'))];
    expect(() => checkImports(stacks)).toThrow(
      new CloudError(
        "dataharvest-persistence-dev imports dataharvest-dev-chunk-stream-arn, which dataharvest-loader-dev exports, but serverless-compose.yml does not make persistence depend on loader: add it to persistence's dependsOn (the two would deploy at once)",
      ),
    );
  });
});
