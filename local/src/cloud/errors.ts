/** A problem with the local cloud's set-up that the user can fix; the CLI prints only this one line. */
export class CloudError extends Error {
  override name = 'CloudError';
}
