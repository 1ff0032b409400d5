/**
 * A CloudError with this message, whatever its cause: errors keep what they were caused by, and jest's toThrow with
 * an error object compares causes too.
 */
export const cloudError = (message: string) => expect.objectContaining({ name: 'CloudError', message });
