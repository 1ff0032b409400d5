import { runScenarios } from './runner';
import { SCENARIOS } from './scenarios/index';

/** The quick chaos scenarios through the same runner as `npm run chaos`: each run's end state equals a clean run's. */
describe('the fast chaos scenarios', () => {
  it('lose, repeat and mix up nothing', async () => {
    const fast = SCENARIOS.filter((s) => s.fast);
    expect(fast.length).toBeGreaterThanOrEqual(2);
    const outcomes = await runScenarios(fast);
    expect(outcomes.map(({ name, differences }) => ({ name, differences }))).toEqual(fast.map(({ name }) => ({ name, differences: [] })));
  }, 180_000);
});
