/**
 * `npm run chaos [-- --json] [-- --only name,name]`: every chaos scenario through the local cloud, each compared with a
 * clean run of the same input (docs/testing.md, "Chaos suite"). Exits 1 when a scenario failed.
 */
import { runScenarios } from './runner';
import { SCENARIOS } from './scenarios/index';

const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set((args[onlyAt + 1] ?? '').split(',')) : undefined;
const unknown = only ? [...only].filter((n) => !SCENARIOS.some((s) => s.name === n)) : [];
if (unknown.length) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
const chosen = SCENARIOS.filter((s) => !only || only.has(s.name));
const outcomes = await runScenarios(chosen, (o) => {
  if (json) return;
  process.stdout.write(`${o.passed ? 'PASS' : 'FAIL'} ${o.name} (${o.seconds} s)\n`);
  for (const d of o.differences.slice(0, 20)) process.stdout.write(`     ${d}\n`);
  if (o.differences.length > 20) process.stdout.write(`     … ${o.differences.length - 20} more\n`);
});
const failed = outcomes.filter((o) => !o.passed).map((o) => o.name);
if (json) process.stdout.write(`${JSON.stringify({ scenarios: outcomes.length, passed: outcomes.length - failed.length, failed })}\n`);
else process.stdout.write(`\n${outcomes.length - failed.length} of ${outcomes.length} scenarios passed${failed.length ? `; failed: ${failed.join(', ')}` : ''}\n`);
process.exit(failed.length ? 1 : 0);
