import { Logger } from '@aws-lambda-powertools/logger';

/** One JSON logger per function; the service name comes from POWERTOOLS_SERVICE_NAME in serverless.yml. */
export const logger = new Logger();
