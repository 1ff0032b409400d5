/**
 * The sample chain, its notifications, upload sessions and the CLI's views of it, on one cloud (test/support/shared-cloud.ts):
 * each module is a describe of its own, with clients of its own.
 */
import { stopSharedCloud } from '../support/shared-cloud';
import './pipeline';
import './notifications';
import './upload-session';
import './cli-stage';
import './cli-status';

afterAll(stopSharedCloud);
