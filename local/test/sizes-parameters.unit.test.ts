import { UsageError } from '../src/cli/errors';
import { chunkSizeParameters, parseSize } from '../src/cli/sizes';
import { CloudError } from '../src/cloud/errors';
import { checkOverrides, stackParameters } from '../src/cloud/cloudformation/parameters';
import type { Stack } from '../src/cloud/cloudformation/template';

const stack = (Parameters: NonNullable<Stack['template']['Parameters']>): Stack => ({ service: 's', dir: '.', stackName: 's-dev', stage: 'dev', template: { Parameters, Resources: {} } });

describe('--chunk-size', () => {
  it.each([
    ['1048576', 1048576],
    ['1MiB', 2 ** 20],
    ['64 MiB', 64 * 2 ** 20],
    ['512KiB', 512 * 1024],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['2MB', 2e6],
    ['10kb', 1e4],
  ])('reads %s as %d bytes', (text, bytes) => {
    expect(parseSize(text, '--chunk-size')).toBe(bytes);
    expect(chunkSizeParameters(text)).toEqual({ ChunkSize: String(bytes) });
  });
  it.each(['', 'MiB', '1 TiB', '-1MiB', '1,5MiB', '0'])('refuses "%s" as a usage error', (text) => {
    expect(() => parseSize(text, '--chunk-size')).toThrow(UsageError);
  });
  it('sets no parameter when not given', () => expect(chunkSizeParameters(undefined)).toEqual({}));
});

describe('template parameters', () => {
  const chunkSize = { Type: 'Number', Default: 67108864, MinValue: 1024 };
  it('take the override, else the default', () => {
    expect(stackParameters(stack({ ChunkSize: chunkSize }))).toEqual({ ChunkSize: '67108864' });
    expect(stackParameters(stack({ ChunkSize: chunkSize }), { ChunkSize: '1048576' })).toEqual({ ChunkSize: '1048576' });
  });
  it('refuse what CloudFormation refuses: below MinValue, not a number, outside AllowedValues, no value', () => {
    expect(() => stackParameters(stack({ ChunkSize: chunkSize }), { ChunkSize: '10' })).toThrow(/within \[1024/);
    expect(() => stackParameters(stack({ ChunkSize: chunkSize }), { ChunkSize: 'big' })).toThrow(/must be a number/);
    expect(() => stackParameters(stack({ Mode: { Type: 'String', AllowedValues: ['a', 'b'] } }), { Mode: 'c' })).toThrow(/one of a, b/);
    expect(() => stackParameters(stack({ Mode: { Type: 'String' } }))).toThrow(/no value/);
    expect(() => stackParameters(stack({ Ids: { Type: 'List<AWS::EC2::Subnet::Id>', Default: 'x' } }))).toThrow(CloudError);
  });
  it('refuse an override no template declares, which would otherwise change nothing', () => {
    expect(() => checkOverrides([stack({ ChunkSize: chunkSize })], { ChunkSise: '1' })).toThrow(/ChunkSise/);
    expect(() => checkOverrides([stack({ ChunkSize: chunkSize })], { ChunkSize: '2048' })).not.toThrow();
  });
});
