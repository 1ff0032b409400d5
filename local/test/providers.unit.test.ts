import { eventSourceMappings } from '../src/cloud/providers/event-source-mappings';
import { eventsRules } from '../src/cloud/providers/events-rules';
import { functions } from '../src/cloud/providers/functions';
import type { ResourceProvider } from '../src/cloud/providers/provider';
import { notCreatedResources } from '../src/cloud/providers/recorded';
import { customResources } from '../src/cloud/providers/custom-resources';
import { PROVIDERS, providerFor, registry } from '../src/cloud/providers/registry';

describe('the resource provider registry', () => {
  it('gives each type the provider that lists it', () => {
    for (const provider of PROVIDERS) for (const type of provider.types) expect(providerFor(type)).toBe(provider);
    expect(providerFor('AWS::Lambda::Function')).toBe(functions);
    expect(providerFor('AWS::Lambda::EventSourceMapping')).toBe(eventSourceMappings);
    expect(providerFor('AWS::Events::Rule')).toBe(eventsRules);
  });

  it('takes any Custom:: type as a custom resource, and only names a type no provider takes', () => {
    expect(providerFor('Custom::Seed')).toBe(customResources);
    expect(providerFor('AWS::Lambda::Permission')).toBe(notCreatedResources);
  });

  it('adds a type with one more provider, and refuses two providers claiming one type', () => {
    const schedules: ResourceProvider = { types: ['AWS::Scheduler::Schedule'], create: async () => ({ ref: 'rule', attributes: {} }) };
    expect(registry([...PROVIDERS, schedules])('AWS::Scheduler::Schedule')).toBe(schedules);
    expect(() => registry([...PROVIDERS, { ...schedules, types: ['AWS::SQS::Queue'] }])).toThrow('two resource providers claim AWS::SQS::Queue');
  });
});
