// `npm run docs:state-machine`: writes the state machine's diagram into docs/metastore.md, between its markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { stateDiagram } from '../src/state-machine';

export const DOC = 'docs/metastore.md';
export const START = '<!-- state-machine: generated from events/src/state-machine.ts by npm run docs:state-machine -->';
export const END = '<!-- /state-machine -->';

/** The document with the block between the markers replaced by the current diagram. */
export function withDiagram(doc: string): string {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${DOC} has no state-machine markers`);
  return `${doc.slice(0, start + START.length)}\n\n\`\`\`mermaid\n${stateDiagram()}\n\`\`\`\n\n${doc.slice(end)}`;
}

if (process.argv[1]?.endsWith('state-diagram.ts')) writeFileSync(DOC, withDiagram(readFileSync(DOC, 'utf8')));
