/**
 * Data-quality rules and control totals, history (SCD type 2), the events, reports and clients the CLI prints, and
 * logs without personal data, on one cloud (test/support/shared-cloud.ts): each module is a describe of its own,
 * with clients of its own.
 */
import { stopSharedCloud } from '../support/shared-cloud';
import './data-quality';
import './history';
import './cli-events-reports';
import './client-tracking';
import './privacy-logs';

afterAll(stopSharedCloud);
