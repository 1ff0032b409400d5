import { printable } from './printable';

export type LogFormat = 'text' | 'json';

/** What every Powertools line carries and a reader of the terminal does not need to see on each line. */
const CONTEXT_KEYS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
]);

/**
 * One log line of the local cloud as `up` prints it. A function's Powertools JSON line becomes
 * `time functionName LEVEL message key=value…` in text, and stays as it is in json; any other line (the cloud's
 * own, or a function's non-JSON output) is kept as it is in text, and becomes a JSON object in json. Text never holds
 * a raw control character (`printable`): a logged key or reason comes from an upload.
 */
export function formatLogLine(line: string, format: LogFormat, functionName?: string): string {
  // An EMF line (a function's metrics) is a JSON object too: kept as it is, as CloudWatch Logs receives it.
  if (format === 'json')
    return parseEntry(line) || emfSummary(line) ? line : JSON.stringify({ timestamp: new Date().toISOString(), ...(functionName ? { function_name: functionName } : {}), message: line });
  return printable(textLine(line, functionName));
}

function textLine(line: string, functionName?: string): string {
  const entry = parseEntry(line);
  if (!entry) return emfSummary(line, functionName) ?? line;
  const time = typeof entry.timestamp === 'string' ? entry.timestamp.slice(11, 23) : '';
  const name = typeof entry.function_name === 'string' ? entry.function_name : (functionName ?? '');
  const fields = Object.entries(entry)
    .filter(([key]) => !CONTEXT_KEYS.has(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return [time, name, String(entry.level ?? ''), String(entry.message ?? ''), ...fields].filter(Boolean).join(' ');
}

/**
 * An Embedded Metric Format line (a function's metrics, shared/src/metrics.ts) as one short line in text,
 * `time functionName METRICS RowsLoaded=3 BytesLoaded=120…`: its JSON repeats each metric's declaration.
 */
function emfSummary(line: string, functionName?: string): string | undefined {
  if (!line.startsWith('{"_aws"')) return undefined;
  try {
    const value = JSON.parse(line) as { _aws?: { Timestamp?: number; CloudWatchMetrics?: Array<{ Metrics?: Array<{ Name?: string }> }> } } & Record<string, unknown>;
    const declared = value._aws?.CloudWatchMetrics?.flatMap((d) => d.Metrics ?? []).map((m) => String(m.Name));
    if (!declared?.length) return undefined;
    const time = typeof value._aws!.Timestamp === 'number' ? new Date(value._aws!.Timestamp).toISOString().slice(11, 23) : '';
    return [time, functionName ?? '', 'METRICS', ...declared.map((name) => `${name}=${formatValue(value[name])}`)].filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

function parseEntry(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' && !Array.isArray(value) && 'message' in value ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A string without spaces or control characters as it is; an error as "Name: message (location)"; anything else as JSON. */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\p{Cc}]+$/u.test(value) ? value : JSON.stringify(value);
  const error = value as { name?: unknown; message?: unknown; location?: unknown } | null;
  if (error && typeof error === 'object' && typeof error.name === 'string' && typeof error.message === 'string') {
    return JSON.stringify(`${error.name}: ${error.message}${typeof error.location === 'string' ? ` (${error.location})` : ''}`);
  }
  return JSON.stringify(value);
}
