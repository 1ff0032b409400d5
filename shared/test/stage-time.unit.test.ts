import type { Batch } from '@dataharvest/events/batch';
import { oldestInStage, stageLeft } from '../src/stage-time';

const batch = (stage: Batch['stage'], history: Batch['stage_history']) => ({ stage, created_at: '2026-12-01T10:00:00.000Z', stage_history: history }) as Batch;

describe('time in a stage', () => {
  it('is, on a transition, the time between entering the stage left and the transition', () => {
    expect(stageLeft(batch('PERSISTED', [{ stage: 'PERSISTED', at: '2026-12-01T10:05:00.000Z' }]))).toEqual({ stage: 'RECEIVING', ms: 300_000 });
    const related = batch('RELATED', [
      { stage: 'PERSISTED', at: '2026-12-01T10:05:00.000Z' },
      { stage: 'RELATED', at: '2026-12-01T10:05:02.500Z' },
    ]);
    expect(stageLeft(related)).toEqual({ stage: 'PERSISTED', ms: 2_500 });
    expect(stageLeft(batch('RECEIVING', undefined))).toBeUndefined();
  });

  it("is, for batches waiting, the oldest one's time in the stage it is in", () => {
    const now = new Date('2026-12-01T11:00:00.000Z');
    const waiting = [
      batch('RELATED', [
        { stage: 'PERSISTED', at: '2026-12-01T10:05:00.000Z' },
        { stage: 'RELATED', at: '2026-12-01T10:30:00.000Z' },
      ]),
      batch('RELATED', [{ stage: 'RELATED', at: '2026-12-01T10:50:00.000Z' }]),
      batch('PERSISTED', [{ stage: 'PERSISTED', at: '2026-12-01T09:00:00.000Z' }]),
    ];
    expect(oldestInStage('RELATED', waiting, now)).toEqual({ stage: 'RELATED', ms: 30 * 60_000 });
    expect(oldestInStage('TRANSFORMED', waiting, now)).toBeUndefined();
    // Still receiving: in RECEIVING since its creation.
    expect(oldestInStage('RECEIVING', [batch('RECEIVING', undefined)], now)).toEqual({ stage: 'RECEIVING', ms: 60 * 60_000 });
  });
});
