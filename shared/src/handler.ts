import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { logger } from './logger';

/** Wraps a handler in the project's middleware: JSON logs with the Lambda context and a correlation id. */
export function lambda<E, R>(fn: (event: E, context: Context) => Promise<R>, correlationIdPath?: string) {
  return middy(fn).use(injectLambdaContext(logger, { correlationIdPath, resetKeys: true }));
}
