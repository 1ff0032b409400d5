import Sequencer from '@jest/test-sequencer';

/**
 * Jest runs the files it has no timing for (a fresh clone, as in CI) largest first. Size says little of time here: a
 * group file (`test/one-cloud/*.test.ts`) is a few lines that import long test modules, and a short file that starts a
 * cloud outlasts the longest unit test. Started last, such a file runs on alone while the other worker idles. So the
 * groups go first, then the cloud project's files, then the unit project's, which fill the end evenly.
 */
export default class LongestFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const rank = (test) => (test.path.includes('/test/one-cloud/') ? 0 : test.context.config.displayName?.name === 'cloud' ? 1 : 2);
    return [0, 1, 2].flatMap((r) => sorted.filter((test) => rank(test) === r));
  }
}
