import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCloud } from '../../local/src/cloud/index';
import { harness } from './harness';
import { CLOUD_PARAMETERS, type CloudKind, clientOf, type Scenario } from './scenario';
import { memoryDir } from '../../local/src/cloud/emulators/memory-dir';

export interface Outcome {
  name: string;
  passed: boolean;
  seconds: number;
  /** Where the outcome differed from the clean run, or the error the scenario ended with. */
  differences: string[];
}

/**
 * Runs the scenarios one after another, each kind of cloud started once (on a data dir of its own: a DynamoDB
 * outage needs one) and stopped after its scenarios. A scenario that throws fails with its error; the others still run.
 */
export async function runScenarios(scenarios: readonly Scenario[], report: (o: Outcome) => void = () => undefined): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const kind of Object.keys(CLOUD_PARAMETERS) as CloudKind[]) {
    const mine = scenarios.filter((s) => s.cloud === kind);
    if (!mine.length) continue;
    const dir = memoryDir(`dataharvest-chaos-${kind}-`);
    chmodSync(dir, 0o755); // PostgreSQL runs as `postgres`, who must enter the data dirs inside
    // In memory (the test run's shared DynamoDB Local) unless a scenario needs a data dir and a DynamoDB Local of its own.
    const persistent = mine.some((s) => s.persistent);
    const cloud = await startCloud({ dataDir: persistent ? join(dir, 'cloud') : undefined, ownDynamoDb: persistent, parameters: CLOUD_PARAMETERS[kind] });
    const h = harness(cloud);
    try {
      for (const scenario of mine) {
        const started = Date.now();
        const differences = await scenario.run(h, clientOf(scenario.name)).catch((e: Error) => [`${e.name}: ${e.message}`]);
        const outcome = { name: scenario.name, passed: differences.length === 0, seconds: Math.round((Date.now() - started) / 100) / 10, differences };
        outcomes.push(outcome);
        report(outcome);
      }
    } finally {
      await h.end();
      await cloud.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return outcomes;
}
