import { jest } from '@jest/globals';
import type { Context } from 'aws-lambda';
import { lambda } from '../src/handler';
import { recordBatchComplete, recordStageTime, recordStepDuration } from '../src/metrics';

const context = { functionName: 'fn', awsRequestId: 'r1', invokedFunctionArn: 'arn:aws:lambda:eu-central-1:000000000000:function:fn' } as Context;

/** The EMF lines written to stdout while `run` runs. */
async function emfLines(run: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const written: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await run().catch(() => undefined);
  } finally {
    write.mockRestore();
  }
  return written.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('metrics through the handler wrapper', () => {
  it('writes what an invocation recorded as one EMF line in the DataHarvest namespace', async () => {
    const lines = await emfLines(() => lambda(async () => recordStepDuration(42))({}, context));
    expect(lines).toEqual([expect.objectContaining({ StepDuration: 42, _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Namespace: 'DataHarvest' })] }) })]);
  });

  it('writes them when the handler fails too, and nothing when it recorded nothing', async () => {
    const failing = lambda(async () => {
      recordBatchComplete('2026-12-01T00:00:00.000Z', Date.parse('2026-12-01T00:00:01.500Z'));
      throw new Error('boom');
    });
    expect(await emfLines(() => failing({}, context))).toEqual([expect.objectContaining({ BatchesCompleted: 1, BatchLatency: expect.any(Number) })]);
    expect(await emfLines(() => lambda(async () => 'nothing')({}, context))).toEqual([]);
  });
});

describe("a batch's time in a stage", () => {
  it('is written at once, in seconds, with the dimension stage alone, whatever service writes it', async () => {
    const lines = await emfLines(async () => recordStageTime({ stage: 'RELATED', ms: 90_400 }));
    expect(lines).toEqual([expect.objectContaining({ BatchStageTime: 90, stage: 'RELATED' })]);
    const [directive] = (lines[0]!._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics;
    expect(directive!.Dimensions).toEqual([['stage']]);
    expect(lines[0]).not.toHaveProperty('service');
  });
});
