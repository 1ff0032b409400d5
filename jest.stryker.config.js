/** The jest config of `npm run mutate` (stryker.config.mjs): the unit project's settings, on the tests listed there. */
import jestConfig from './jest.config.js';

const { displayName, ...unit } = jestConfig.projects.find((p) => p.displayName === 'unit');

export default { ...unit, testTimeout: jestConfig.testTimeout, forceExit: jestConfig.forceExit };
