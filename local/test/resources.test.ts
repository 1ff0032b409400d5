import { CloudError } from '../src/cloud/errors';
import { createResource } from '../src/cloud/providers/data-stores';
import { Resolver } from '../src/cloud/cloudformation/template';

const resolver = new Resolver({ service: 'svc', dir: '/nowhere', stackName: 'svc-dev', stage: 'dev', template: { Resources: {} } }, new Map(), {});

describe('createResource: Kinesis streams', () => {
  it('refuses a stream mode kinesalite cannot honour instead of creating a provisioned stream', async () => {
    // Refused before any emulator is asked, so no clients are needed.
    const stream = { Type: 'AWS::Kinesis::Stream', Properties: { StreamModeDetails: { StreamMode: 'SERVERLESS' } } };
    await expect(createResource('Stream', stream, resolver, 'svc-dev', {} as never)).rejects.toThrow(
      new CloudError(`Stream: StreamMode "SERVERLESS"; the local cloud's Kinesis creates PROVISIONED and ON_DEMAND streams only`),
    );
  });
});
