import { deployOrder, Resolver, type Physical, type Stack, type Template } from '../src/cloud/cloudformation/template';
import { cloudError } from '../../test/support/errors';

const stack = (template: Template = { Resources: {} }): Stack => ({ service: 'svc', dir: '/nowhere', stackName: 'svc-dev', stage: 'dev', template });

function resolver(physical: Record<string, Physical> = {}, exports: Record<string, string> = {}) {
  return new Resolver(stack(), new Map(Object.entries(physical)), exports);
}

const queue: Physical = { ref: 'http://127.0.0.1:1/000000000000/q', attributes: { Arn: 'arn:aws:sqs:eu-central-1:000000000000:q', QueueName: 'q' } };

describe('Resolver', () => {
  it('resolves Ref, Fn::GetAtt in both forms, pseudo parameters and imports', () => {
    const r = resolver({ Queue: queue }, { 'dataharvest-aws-table': 'table-dev' });
    expect(
      r.resolve({
        url: { Ref: 'Queue' },
        arn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        name: { 'Fn::GetAtt': 'Queue.QueueName' },
        region: { Ref: 'AWS::Region' },
        account: { Ref: 'AWS::AccountId' },
        stackName: { Ref: 'AWS::StackName' },
        table: { 'Fn::ImportValue': { 'Fn::Sub': 'dataharvest-${AWS::Partition}-table' } },
      }),
    ).toEqual({
      url: queue.ref,
      arn: queue.attributes.Arn,
      name: 'q',
      region: 'eu-central-1',
      account: '000000000000',
      stackName: 'svc-dev',
      table: 'table-dev',
    });
  });

  it('resolves Fn::Sub with variables, attributes and the ${!Literal} escape', () => {
    const r = resolver({ Queue: queue });
    expect(r.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Queue.QueueName}' })).toBe('arn:aws:sqs:eu-central-1:000000000000:q');
    expect(r.resolve({ 'Fn::Sub': ['${A}-${B}-${!Kept}', { A: 'x', B: { Ref: 'AWS::URLSuffix' } }] })).toBe('x-amazonaws.com-${Kept}');
  });

  it('resolves Fn::Join, Fn::Select and Fn::Split, nested', () => {
    expect(resolver().resolve({ 'Fn::Join': ['/', [{ Ref: 'AWS::StackName' }, { 'Fn::Select': ['1', { 'Fn::Split': [',', 'a,b,c'] }] }]] })).toBe('svc-dev/b');
  });

  it('drops what Ref AWS::NoValue names, in objects and lists', () => {
    expect(resolver().resolve({ keep: 1, drop: { Ref: 'AWS::NoValue' }, list: ['a', { Ref: 'AWS::NoValue' }] })).toEqual({ keep: 1, list: ['a'] });
  });

  it('fails in one line on what it cannot resolve', () => {
    expect(() => resolver().resolve({ Ref: 'Missing' })).toThrow(cloudError('svc: Ref to Missing, which the local cloud has not created'));
    expect(() => resolver({ Queue: queue }).resolve({ 'Fn::GetAtt': ['Queue', 'Nope'] })).toThrow(cloudError('svc: Fn::GetAtt Queue.Nope is not known to the local cloud'));
    expect(() => resolver().resolve({ 'Fn::ImportValue': 'x' })).toThrow(cloudError('svc imports x, which no stack deployed before it exports: check dependsOn in serverless-compose.yml'));
    expect(() => resolver().resolve({ 'Fn::If': ['c', 1, 2] })).toThrow(cloudError('svc: Fn::If is not supported by the local cloud'));
  });
});

describe('deployOrder', () => {
  it('puts every resource after the ones it names through DependsOn, Ref, Fn::GetAtt and Fn::Sub', () => {
    const order = deployOrder({
      Resources: {
        Mapping: { Type: 'AWS::Lambda::EventSourceMapping', Properties: { FunctionName: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Destination: { Ref: 'Queue' } } },
        Fn: { Type: 'AWS::Lambda::Function', DependsOn: 'Logs', Properties: { Environment: { Variables: { T: { 'Fn::Sub': '${Table}/${Stream.Arn}/${AWS::Region}' } } } } },
        Queue: { Type: 'AWS::SQS::Queue' },
        Logs: { Type: 'AWS::Logs::LogGroup' },
        Table: { Type: 'AWS::DynamoDB::Table' },
        Stream: { Type: 'AWS::Kinesis::Stream' },
      },
    });
    const before = (a: string, b: string) => expect(order.indexOf(a)).toBeLessThan(order.indexOf(b));
    expect([...order].sort()).toEqual(['Fn', 'Logs', 'Mapping', 'Queue', 'Stream', 'Table']);
    before('Fn', 'Mapping');
    before('Queue', 'Mapping');
    before('Logs', 'Fn');
    before('Table', 'Fn');
    before('Stream', 'Fn');
  });

  it('refuses a cycle, naming it', () => {
    expect(() => deployOrder({ Resources: { A: { Type: 'T', Properties: { x: { Ref: 'B' } } }, B: { Type: 'T', DependsOn: ['A'] } } })).toThrow(
      cloudError('the template has a dependency cycle: A -> B -> A'),
    );
  });
});
