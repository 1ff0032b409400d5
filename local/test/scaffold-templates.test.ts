import { readFileSync } from 'node:fs';
import { transformerServerlessYml } from '../src/cli/scaffold-templates';

const withoutTitle = (yml: string) => yml.split('\n').slice(1).join('\n');

describe('the transformer scaffold', () => {
  it.each(['deposit', 'transaction', 'tax'])('generates the same configuration the %s service deploys (all but its title line)', (name) => {
    expect(withoutTitle(transformerServerlessYml(name))).toBe(withoutTitle(readFileSync(`services/${name}/serverless.yml`, 'utf8')));
  });
});
