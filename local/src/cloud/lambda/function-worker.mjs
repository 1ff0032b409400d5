// Runs one Lambda function's bundle in a child process, forked by runtime.ts on the Node the function declares, in
// its task root and with its environment only. The module stays loaded between invocations, like a warm container.
import { pathToFileURL } from 'node:url';

const { file, exportName, context } = JSON.parse(process.argv[2]);
const asError = (error, fallbackType) => ({ errorType: error?.name ?? fallbackType, errorMessage: error?.message ?? String(error) });
// The local cloud is gone (it crashed, or was killed): a container never outlives it.
process.on('disconnect', () => process.exit(0));

/** The handler, or undefined once the load failure is reported (Lambda reports it before any invocation runs). */
async function load() {
  let module;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    process.send({ initError: { errorType: 'Runtime.ImportModuleError', errorMessage: asError(error).errorMessage } });
    return undefined;
  }
  if (typeof module[exportName] === 'function') return module[exportName];
  process.send({ initError: { errorType: 'Runtime.HandlerNotFound', errorMessage: `${file} has no function export ${exportName}` } });
  return undefined;
}

const handler = await load();
if (handler) {
  process.on('message', async ({ id, event, requestId, deadline }) => {
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
      // The channel sends JSON, as Lambda answers: a result that cannot be serialized fails here, as an error.
      process.send({ id, ok: true, result: result === undefined ? null : result });
    } catch (error) {
      process.send({ id, ok: false, error: asError(error, 'Error') });
    }
  });
  process.send({ ready: true });
}
