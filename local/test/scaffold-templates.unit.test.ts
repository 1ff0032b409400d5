import { readdirSync, readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { composeWith } from '../src/cli/scaffold';
import { transformerServerlessYml } from '../src/cli/scaffold-templates';

const withoutTitle = (yml: string) => yml.split('\n').slice(1).join('\n');

/** The services deployed from the transformer fragment: each names shared/transformer.yml in its serverless.yml. */
const transformers = readdirSync('services').filter((name) => {
  try {
    return readFileSync(`services/${name}/serverless.yml`, 'utf8').includes('shared/transformer.yml');
  } catch {
    return false;
  }
});

describe('the transformer scaffold', () => {
  it('finds the transformers deployed from shared/transformer.yml', () => {
    expect(transformers).toEqual(expect.arrayContaining(['deposit', 'tax', 'transaction']));
  });

  it.each(transformers)('generates the same configuration the %s service deploys (all but its title line), under 30 lines', (name) => {
    const deployed = readFileSync(`services/${name}/serverless.yml`, 'utf8');
    expect(withoutTitle(transformerServerlessYml(name))).toBe(withoutTitle(deployed));
    expect(deployed.trimEnd().split('\n').length).toBeLessThan(30);
  });
});

describe("the scaffold's compose entry", () => {
  const compose = readFileSync('serverless-compose.yml', 'utf8');
  const services = (text: string) => (yaml.load(text) as { services: Record<string, { path: string; dependsOn?: string[] }> }).services;

  it('adds the transformer after the database and metastore and before persistence, keeping every comment', () => {
    const updated = composeWith(compose, 'fx-exposure');
    expect(services(updated)['fx-exposure']).toEqual({ path: 'services/fx-exposure', dependsOn: ['metastore', 'database'] });
    expect(services(updated).persistence!.dependsOn).toEqual([...services(compose).persistence!.dependsOn!, 'fx-exposure']);
    expect(updated.split('\n').filter((l) => l.trim().startsWith('#'))).toEqual(compose.split('\n').filter((l) => l.trim().startsWith('#')));
  });

  it('refuses a compose file without persistence rather than leave the deploy order to chance', () => {
    expect(() => composeWith('services:\n  database:\n    path: database\n', 'fx-exposure')).toThrow(/no persistence entry/);
  });
});
