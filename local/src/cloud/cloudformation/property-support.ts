import { LocalCloudError } from '../errors';

/** A property the local cloud cannot do as AWS documents: the deploy fails naming it, rather than ignore it. */
export class UnsupportedProperty extends LocalCloudError {
  override name = 'UnsupportedProperty';
}

/**
 * What the local cloud does with a resource type's properties: those it honours as AWS does, and those that have no
 * effect on loopback (tags, descriptions, network placement). Every other property AWS documents for the type is
 * refused at deploy; `local/test/resource-specification.unit.test.ts` holds each list to CloudFormation's own schema.
 */
export interface PropertySupport {
  readonly honoured: readonly string[];
  readonly withoutEffect: readonly string[];
}

/** Refuses the first properties the support does not list, naming them. */
export function refuseUnlisted(props: Record<string, unknown>, support: PropertySupport): void {
  const unknown = Object.keys(props).filter((k) => !support.honoured.includes(k) && !support.withoutEffect.includes(k));
  if (unknown.length) throw new UnsupportedProperty(`${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not emulated by the local cloud`);
}
