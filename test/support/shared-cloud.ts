import { type LocalCloud, startCloud } from '../../local/src/cloud/index';

/**
 * One local cloud for the test modules a group file imports (`test/one-cloud/*.test.ts`): its start and its
 * functions' cold starts are paid once, not once per module. Jest gives each test file its own module registry, so
 * this is one cloud per group file. Each module sends batches of clients of its own, so that no module's assertions
 * meet another's data; a module that needs a cloud set up otherwise (parameters, a data dir to restart on, a fault)
 * starts its own, as the files outside `test/one-cloud/` do.
 */
let started: Promise<LocalCloud> | undefined;

/** The group's cloud, started by the first module to ask; each later module gets it once what ran before is done. */
export async function sharedCloud(): Promise<LocalCloud> {
  const first = !started;
  started ??= startCloud();
  const cloud = await started;
  if (!first) await cloud.idle({ timeoutMs: 120_000 });
  return cloud;
}

/** The group file's afterAll. */
export async function stopSharedCloud(): Promise<void> {
  const cloud = await started?.catch(() => undefined);
  started = undefined;
  await cloud?.stop();
}
