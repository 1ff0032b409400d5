import { readFileSync } from 'node:fs';
import { STAGES } from '../src/batch';
import { DOC, withDiagram } from '../bin/state-diagram';
import { feedFilter, fromStages, type Step, TRANSITIONS, TRIGGERS, toStage } from '../src/state-machine';

describe('the batch state machine declaration', () => {
  it('reaches every stage, and leaves every stage but COMPLETE by some step', () => {
    const reached = new Set(['RECEIVING', ...TRANSITIONS.map((t) => t.to)]);
    expect([...STAGES].filter((s) => !reached.has(s))).toEqual([]);
    const left = new Set(TRANSITIONS.flatMap((t) => t.from.filter((f) => f !== t.to)));
    expect([...STAGES].filter((s) => !left.has(s))).toEqual(['COMPLETE'].filter((s) => !left.has(s as never)));
  });

  it('answers the stages each step moves from and to', () => {
    expect(fromStages('relate')).toEqual(['PERSISTED']);
    expect(fromStages('receive')).toEqual(['RECEIVING', 'LATE', 'REJECTED']);
    expect(fromStages('late')).toEqual(['RECEIVING', 'REJECTED', 'PERSISTED']);
    expect(fromStages('resume')).toEqual(['LATE']);
    expect(fromStages('reopen')).toEqual(['RELATED', 'TRANSFORMED', 'COMPLETE']);
    expect(fromStages('fail')).toEqual([...STAGES]);
    expect(toStage('publish')).toBe('COMPLETE');
    expect(() => toStage('receive')).toThrow('step receive has 3 target stages');
    expect(() => fromStages('nope' as Step)).toThrow('no transition for step nope');
  });

  it('wakes each service on the stage its step moves from', () => {
    expect(TRIGGERS.relationship.stage).toEqual({ S: fromStages('relate') });
    expect(TRIGGERS.transform.stage).toEqual({ S: fromStages('transform') });
    expect(feedFilter('catapult')).toEqual({ data: { dynamodb: { NewImage: { stage: { S: ['TRANSFORMED'] } } } } });
  });

  it('is what docs/metastore.md shows (npm run docs:state-machine writes it)', () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(withDiagram(doc)).toBe(doc);
  });
});
