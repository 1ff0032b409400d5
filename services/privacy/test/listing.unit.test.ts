import { listedKey } from '../src/listing';

describe('keys as S3 lists them', () => {
  it('decodes a URL-encoded listing as S3 encodes it, a form encoding: any character comes back as stored', () => {
    expect(listedKey('quarantine/ACME/a%0Db%0A.csv', 'url')).toBe('quarantine/ACME/a\rb\n.csv');
    expect(listedKey('errors/ACME/a+b%2Bc%25d%E2%82%AC.json', 'url')).toBe('errors/ACME/a b+c%d€.json');
  });

  it('keeps the key of an answer that is not URL-encoded as it is', () => {
    expect(listedKey('archive/ACME/a+b%2B.csv', undefined)).toBe('archive/ACME/a+b%2B.csv');
  });
});
