import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { ERASURE_RETRY_ATTEMPTS } from '@dataharvest/shared/erasures';
import { STREAM_MAXIMUM_RETRY_ATTEMPTS } from '@dataharvest/shared/failures';

/** The services whose change-feed handler records failure items (recordedStreamHandler). */
const RECORDING = ['relationship', 'deposit', 'tax', 'transaction', 'catapult'];

/** serverless.yml's own tags (!ImportValue, !GetAtt, …) as plain values: only the mapping settings matter here. */
const schema = yaml.DEFAULT_SCHEMA.extend(
  ['ImportValue', 'GetAtt', 'Ref', 'Sub', 'Join', 'If', 'Equals', 'Select', 'Split'].flatMap((tag) =>
    (['scalar', 'sequence', 'mapping'] as const).map((kind) => new yaml.Type(`!${tag}`, { kind, construct: (data: unknown) => data })),
  ),
);

const streamsOf = (service: string) => {
  const config = yaml.load(readFileSync(`services/${service}/serverless.yml`, 'utf8'), { schema }) as {
    functions: Record<string, { events?: Array<{ stream?: Record<string, unknown> }> }>;
  };
  return Object.values(config.functions).flatMap((f) => (f.events ?? []).flatMap((e) => (e.stream ? [e.stream] : [])));
};

describe('gave_up counts the retries the templates set', () => {
  it.each(RECORDING)('%s: every stream mapping retries STREAM_MAXIMUM_RETRY_ATTEMPTS times and reports partial failures', (service) => {
    const streams = streamsOf(service);
    expect(streams.length).toBeGreaterThan(0);
    for (const stream of streams) {
      // A partial batch response retries from the failed record, so its handler sees each attempt and can count it.
      expect(stream).toMatchObject({ maximumRetryAttempts: STREAM_MAXIMUM_RETRY_ATTEMPTS, functionResponseType: 'ReportBatchItemFailures', bisectBatchOnFunctionError: true });
    }
  });

  it('privacy: an erasure request is FAILED after the retries its mapping sets', () => {
    expect(streamsOf('privacy')).toEqual([expect.objectContaining({ maximumRetryAttempts: ERASURE_RETRY_ATTEMPTS, functionResponseType: 'ReportBatchItemFailures' })]);
  });
});
