/** Lambda's answer when a function has no concurrency to spare: its reserved concurrency is all in use (or 0). */
export const THROTTLED = 'TooManyRequestsException';

/** Whether an invocation was throttled rather than run: event sources retry those without counting a retry. */
export const throttled = (error: unknown) => (error as { errorType?: unknown } | null)?.errorType === THROTTLED;
