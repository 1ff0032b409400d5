import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { logger } from './logger';
import { flushMetrics } from './metrics';

/** Wraps a handler in the project's middleware: JSON logs with the Lambda context and a correlation id, metrics flushed per invocation. */
export function lambda<E, R>(fn: (event: E, context: Context) => Promise<R>, correlationIdPath?: string) {
  return middy(fn)
    .use(injectLambdaContext(logger, { correlationIdPath, resetKeys: true }))
    .use(flushMetrics());
}

/**
 * A Lambda entry point whose handler is built on its first event, once per container, by `build` (which reads the
 * function's configuration): importing the module reads nothing, so tests and sibling functions' modules can.
 */
export function builtOnFirstEvent<E, R>(build: () => (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R> {
  let built: ((event: E, context: Context) => Promise<R>) | undefined;
  return async (event, context) => (built ??= build())(event, context);
}
