import Sequencer from '@jest/test-sequencer';

/**
 * Jest runs the files it has no timing for (a fresh clone) largest first. A group file (`test/one-cloud/*.test.ts`)
 * is a few lines that import long test modules: by its size it would start last and run on alone. Groups go first.
 */
export default class GroupsFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const group = (test) => test.path.includes('/test/one-cloud/');
    return [...sorted.filter(group), ...sorted.filter((test) => !group(test))];
  }
}
