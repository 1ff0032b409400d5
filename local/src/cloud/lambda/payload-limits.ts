/** Lambda's limit on a synchronous invocation's request (a stream batch is one): stream batches are cut to fit it. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** An asynchronous invocation's event (Invoke with InvocationType Event): 1 MB since October 2025, 256 KB before. */
export const MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024;
/** A synchronous invocation's response: Lambda's own figure, 100 bytes over 6 MiB. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

/** The size Lambda counts: the event as JSON, in UTF-8 bytes. */
export const payloadBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? 'null');

/** The Invoke API's refusal of a request over the limit (HTTP 413), worded as Lambda words it; undefined if it fits. */
export function requestTooLarge(event: unknown, limit: number): string | undefined {
  return payloadBytes(event) > limit ? `Request must be smaller than ${limit} bytes for the InvokeFunction operation` : undefined;
}

/** Lambda's error for a response over the limit; undefined if it fits. */
export function responseTooLarge(result: unknown): string | undefined {
  const bytes = payloadBytes(result);
  return bytes > MAX_RESPONSE_BYTES ? `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).` : undefined;
}
