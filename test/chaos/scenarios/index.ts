import type { Scenario } from '../scenario';
import { crashes } from './crashes';
import { delivery } from './delivery';
import { load } from './load';

/** Every chaos scenario, in the order the suite runs them. */
export const SCENARIOS: readonly Scenario[] = [...delivery, ...crashes, ...load];
