import { withoutKnownNoise } from '../src/cloud/emulators/dynamodb';

const filtered = (lines: string[]) => {
  const out: string[] = [];
  const line = withoutKnownNoise((l) => out.push(l));
  for (const l of lines) line(l);
  return out;
};

describe("DynamoDB Local's stderr", () => {
  it('drops the JAXB warning printed on every start, header line included', () => {
    expect(
      filtered([
        'Dec 01, 2026 10:22:50 PM com.amazonaws.log.JulLog warn',
        'WARNING: JAXB is unavailable. Will fallback to SDK implementation which may be less performant.If you are using Java 9+, you will need to include javax.xml.bind:jaxb-api as a dependency.',
      ]),
    ).toEqual([]);
  });

  it('keeps any other record with its header, and lines that are no log record', () => {
    const lines = [
      'Dec 01, 2026 10:22:51 PM com.amazonaws.services.dynamodbv2.local.server.LocalDynamoDBRequestHandler handleServiceException',
      'SEVERE: database is locked',
      'Exception in thread "main" java.io.IOException: No space left on device',
    ];
    expect(filtered(lines)).toEqual(lines);
  });
});
