import { lambda } from '@dataharvest/shared/handler';
import { logger } from '@dataharvest/shared/logger';
export const handler = lambda(async (event: unknown) => { logger.info('event', { event }); });
