import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const SPEC_DIR = join(import.meta.dirname, 'openlineage-spec');
// CommonJS packages: under Node's ESM loader their class and function are the `default` of the default export.
const Ajv = (Ajv2020 as unknown as { default?: typeof Ajv2020 }).default ?? Ajv2020;
const withFormats = (addFormats as unknown as { default?: typeof addFormats }).default ?? addFormats;

/**
 * Validates OpenLineage run events against the published JSON schemas (openlineage-spec/): the event against
 * RunEvent, and each facet against the schema its `_schemaURL` names when that is a published one. Returns the
 * problems, none for a valid event.
 */
export function openLineageProblems(events: readonly unknown[]): string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  withFormats(ajv);
  for (const file of readdirSync(SPEC_DIR).filter((f) => f.endsWith('.json'))) ajv.addSchema(JSON.parse(readFileSync(join(SPEC_DIR, file), 'utf8')));
  const runEvent = ajv.getSchema('https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent')!;
  const problems: string[] = [];
  for (const [i, event] of events.entries()) {
    if (!runEvent(event)) problems.push(`event ${i}: ${ajv.errorsText(runEvent.errors)}`);
    for (const facet of facetsOf(event)) {
      const url = String(facet._schemaURL);
      if (!url.startsWith('https://openlineage.io/')) continue;
      const schema = ajv.getSchema(url);
      if (!schema) problems.push(`event ${i}: no published schema ${url}`);
      else if (!schema(facet)) problems.push(`event ${i}: ${url}: ${ajv.errorsText(schema.errors)}`);
    }
  }
  return problems;
}

function facetsOf(event: unknown): Array<Record<string, unknown>> {
  const e = event as { run?: { facets?: object }; inputs?: Array<Record<string, object>>; outputs?: Array<Record<string, object>> };
  const datasets = [...(e.inputs ?? []), ...(e.outputs ?? [])];
  return [e.run?.facets, ...datasets.flatMap((d) => [d.facets, d.inputFacets, d.outputFacets])].flatMap((f) => Object.values(f ?? {})) as Array<Record<string, unknown>>;
}
