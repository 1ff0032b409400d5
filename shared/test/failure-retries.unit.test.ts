import { ERASURE_RETRY_ATTEMPTS } from '@dataharvest/shared/erasures';
import { STREAM_MAXIMUM_RETRY_ATTEMPTS } from '@dataharvest/shared/failures';
import limits from '../limits.json' with { type: 'json' };
import { serverlessConfig } from '../../test/support/serverless-config';

/** The services whose change-feed handler records failure items (recordedStreamHandler). */
const RECORDING = ['relationship', 'deposit', 'tax', 'transaction', 'catapult'];

/** How a template reads the retries the code counts: from the one place both read. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an osls variable, as the templates write it.
const STREAM_RETRIES = '${file(../../shared/limits.json):streamRetryAttempts}';

const streamsOf = (service: string) => {
  const config = serverlessConfig(`services/${service}/serverless.yml`) as {
    functions: Record<string, { events?: Array<{ stream?: Record<string, unknown> }> }>;
  };
  return Object.values(config.functions).flatMap((f) => (f.events ?? []).flatMap((e) => (e.stream ? [e.stream] : [])));
};

describe('gave_up counts the retries the templates set', () => {
  it('the code counts the retries shared/limits.json sets', () => {
    expect(STREAM_MAXIMUM_RETRY_ATTEMPTS).toBe(limits.streamRetryAttempts);
  });

  it.each(RECORDING)('%s: every stream mapping reads its retries from shared/limits.json and reports partial failures', (service) => {
    const streams = streamsOf(service);
    expect(streams.length).toBeGreaterThan(0);
    for (const stream of streams) {
      // A partial batch response retries from the failed record, so its handler sees each attempt and can count it.
      expect(stream).toMatchObject({ maximumRetryAttempts: STREAM_RETRIES, functionResponseType: 'ReportBatchItemFailures', bisectBatchOnFunctionError: true });
    }
  });

  it('privacy: an erasure request is FAILED after the retries its mapping sets', () => {
    expect(streamsOf('privacy')).toEqual([expect.objectContaining({ maximumRetryAttempts: ERASURE_RETRY_ATTEMPTS, functionResponseType: 'ReportBatchItemFailures' })]);
  });
});
