import { CloudError } from '../errors';
import { compileFilters } from '../event-sources/filter';
import { filterPatterns } from '../event-sources/wiring';
import { functionName, ownerOf, type ResourceProvider } from './provider';
import { notCreated } from './recorded';

/**
 * Stream event source mappings, and the enhanced fan-out consumers they may read through: an enabled mapping polls
 * its stream and invokes its function (event-sources/stream-poller.ts).
 */
export const eventSourceMappings: ResourceProvider = {
  types: ['AWS::Lambda::EventSourceMapping', 'AWS::Kinesis::StreamConsumer'],
  async create(ctx) {
    const { stack, logicalId, resource } = ctx;
    const p = ctx.props();
    if (resource.Type === 'AWS::Kinesis::StreamConsumer') {
      // Locally a consumer's mapping reads the stream itself (there is no shared throughput to spare).
      const consumerArn = `${String(p.StreamARN)}/consumer/${String(p.ConsumerName)}:1`;
      return { ref: consumerArn, attributes: { ConsumerARN: consumerArn, ConsumerName: String(p.ConsumerName), StreamARN: String(p.StreamARN), ConsumerStatus: 'ACTIVE' } };
    }
    const fn = functionName(String(p.FunctionName));
    // CreateEventSourceMapping refuses an invalid pattern, enabled mapping or not.
    try {
      compileFilters(filterPatterns(p));
    } catch (e) {
      throw new CloudError(`${stack.stackName}: event source mapping ${logicalId} of function ${fn}: ${(e as Error).message}`, { cause: e });
    }
    // Lambda reads an encrypted source with the function's role: refused its key, the mapping delivers nothing on AWS.
    const refused = ctx.cloud.iam.mappingRefusal(fn, String(p.EventSourceArn));
    if (refused) ctx.cloud.log(refused, fn);
    else if (p.Enabled !== false && p.Enabled !== 'false') ctx.cloud.eventSources.startMapping(ownerOf(ctx), fn, p);
    return notCreated(logicalId, resource, ctx.resolver, stack.stackName);
  },
  delete: (ctx) => ctx.cloud.eventSources.remove(ownerOf(ctx)),
};
