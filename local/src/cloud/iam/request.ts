import { LocalCloudError } from '../errors';

/** What one AWS API request asks to do, as IAM names it. */
export interface Permission {
  action: string;
  resource: string;
}

/** A request the IAM proxy cannot read well enough to check: it is refused (fail closed), never passed on unchecked. */
export class UnreadableRequest extends LocalCloudError {
  override name = 'UnreadableRequest';
}
