/**
 * The sample chain, its notifications, upload sessions, the CLI's views of it and a storm of refused files, on one
 * cloud (test/support/shared-cloud.ts): each module is a describe of its own, with clients of its own.
 */
import { stopSharedCloud } from '../support/shared-cloud';
import './pipeline';
import './notifications';
import './upload-session';
import './cli-stage';
import './cli-status';
import './refused-storm';

afterAll(stopSharedCloud);
