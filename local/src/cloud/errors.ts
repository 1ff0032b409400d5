/**
 * The base of the local cloud's errors (as each Powertools package has one): every subclass sets its own `name`, and
 * one raised while handling another, an emulator's or a library's, passes it on as `cause`
 * (`new CloudError(message, { cause })`): the message says what it means here, the original stays inspectable.
 */
export class LocalCloudError extends Error {
  override name = 'LocalCloudError';
}

/**
 * A problem with the local cloud's set-up that the user can fix, its message already naming where (the stack and
 * resource): the CLI prints only this one line. The other errors are the emulators' refusals and failures, which
 * whoever catches them words for the user (a deploy failure names the resource, the IAM proxy answers as AWS would).
 */
export class CloudError extends LocalCloudError {
  override name = 'CloudError';
}
