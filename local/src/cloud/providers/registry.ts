import { customResources } from './custom-resources';
import { dataStores } from './data-stores';
import { database } from './database';
import { eventSourceMappings } from './event-source-mappings';
import { eventsRules } from './events-rules';
import { functions } from './functions';
import { iamPolicies } from './iam-policies';
import { kmsKeys } from './kms';
import type { ResourceProvider } from './provider';
import { notCreatedResources, recorded } from './recorded';
import { sns } from './sns';

/** Every provider, each owning its types: a new resource type is a new provider listed here. */
export const PROVIDERS: readonly ResourceProvider[] = [dataStores, database, sns, recorded, kmsKeys, iamPolicies, functions, eventSourceMappings, eventsRules, customResources];

/** Type -> its provider; two providers claiming one type is a mistake of this list, caught as the module loads. */
export function registry(providers: readonly ResourceProvider[]): (type: string) => ResourceProvider {
  const byType = new Map<string, ResourceProvider>();
  for (const provider of providers) {
    for (const type of provider.types) {
      if (byType.has(type)) throw new Error(`two resource providers claim ${type}`);
      byType.set(type, provider);
    }
  }
  // Any Custom:: type is a custom resource; a type no provider takes is only named (recorded.ts).
  return (type) => byType.get(type) ?? (type.startsWith('Custom::') ? customResources : notCreatedResources);
}

export const providerFor = registry(PROVIDERS);
