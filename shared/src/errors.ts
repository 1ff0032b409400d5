/**
 * The base of the shared toolkit's and the services' errors (as each Powertools package has one): every subclass sets
 * its own `name`, and one raised while handling another passes it on as `cause` (`new XError(message, { cause })`),
 * so the original stays inspectable while the message says what it means here. Logs show neither the cause nor any
 * field: handlers log `safeError(error)` (safe-error.ts).
 */
export class DataHarvestError extends Error {
  override name = 'DataHarvestError';
}
