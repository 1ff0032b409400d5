// Runs one Lambda function's bundle inside a worker thread: the worker's env is the function's environment,
// and the module stays loaded between invocations, like a warm Lambda container.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

const { file, exportName, context } = workerData;
const module = await import(pathToFileURL(file).href);
const handler = module[exportName];

parentPort.on('message', async ({ id, event, requestId, deadline }) => {
  const invocation = {
    ...context,
    awsRequestId: requestId,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    done() {}, fail() {}, succeed() {},
  };
  try {
    const result = await handler(event, invocation);
    parentPort.postMessage({ id, ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: { errorType: error?.name ?? 'Error', errorMessage: error?.message ?? String(error) } });
  }
});
parentPort.postMessage({ ready: true });
