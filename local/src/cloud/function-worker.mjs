// Runs one Lambda function's bundle inside a worker thread: the worker's env is the function's environment,
// and the module stays loaded between invocations, like a warm Lambda container.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

const { file, exportName, context } = workerData;
// Lambda starts a function in its task root. A worker thread cannot chdir (the working directory is the process's),
// so process.cwd() and what resolves through it (path.resolve) answer the task root, while a bare relative path
// handed to fs still resolves against the local cloud's own directory: code should build paths from process.cwd().
process.cwd = () => process.env.LAMBDA_TASK_ROOT;
const asError = (error, fallbackType) => ({ errorType: error?.name ?? fallbackType, errorMessage: error?.message ?? String(error) });

/** The handler, or undefined once the load failure is reported (Lambda reports it before any invocation runs). */
async function load() {
  let module;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    parentPort.postMessage({ initError: { errorType: 'Runtime.ImportModuleError', errorMessage: asError(error).errorMessage } });
    return undefined;
  }
  if (typeof module[exportName] === 'function') return module[exportName];
  parentPort.postMessage({ initError: { errorType: 'Runtime.HandlerNotFound', errorMessage: `${file} has no function export ${exportName}` } });
  return undefined;
}

const handler = await load();
if (handler) {
  parentPort.on('message', async ({ id, event, requestId, deadline }) => {
    const invocation = {
      ...context,
      awsRequestId: requestId,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    };
    try {
      // As in the Node.js runtime: a returned promise answers; otherwise a handler of three parameters answers
      // through the callback, and any other one with what it returned.
      const result = await new Promise((resolve, reject) => {
        const returned = handler(event, invocation, (error, value) => (error ? reject(error) : resolve(value)));
        if (typeof returned?.then === 'function') returned.then(resolve, reject);
        else if (handler.length < 3) resolve(returned);
      });
      parentPort.postMessage({ id, ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
    } catch (error) {
      parentPort.postMessage({ id, ok: false, error: asError(error, 'Error') });
    }
  });
  parentPort.postMessage({ ready: true });
}
