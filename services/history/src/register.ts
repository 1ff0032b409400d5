import { registrationHandler } from '@dataharvest/shared/registration';
import { contributionOf } from '@dataharvest/shared/transformer';
import { definition } from './handler';

/** Registers the transformer with what it adds to every portfolio's event. */
export const handler = registrationHandler(contributionOf(definition));
