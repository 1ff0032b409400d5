import { formatLogLine } from '../src/cli/log-format';

const POWERTOOLS =
  '{"level":"INFO","message":"file settled","timestamp":"2026-12-01T22:22:54.271Z","service":"persistence","cold_start":false,"function_arn":"arn:aws:lambda:eu-central-1:000000000000:function:dataharvest-persistence-dev-persist","function_memory_size":"512","function_name":"dataharvest-persistence-dev-persist","function_request_id":"5d9f","sampling_rate":0,"key":"incoming/EXT_CLIENT/accounts_20200130.csv","status":"PERSISTED","rows":2,"reason":"two words"}';

describe('log lines of dataharvest up', () => {
  it('shows a Powertools line as time, function, level, message and its own keys', () => {
    expect(formatLogLine(POWERTOOLS, 'text')).toBe(
      '22:22:54.271 dataharvest-persistence-dev-persist INFO file settled key=incoming/EXT_CLIENT/accounts_20200130.csv status=PERSISTED rows=2 reason="two words"',
    );
  });

  it('shows a logged error as its name, message and location', () => {
    const line = JSON.stringify({
      level: 'ERROR',
      message: 'failed',
      timestamp: '2026-12-01T22:22:54.271Z',
      error: { name: 'StaleStateError', location: 'file.js:1', message: 'stale', stack: 'long' },
    });
    expect(formatLogLine(line, 'text', 'fn')).toBe('22:22:54.271 fn ERROR failed error="StaleStateError: stale (file.js:1)"');
  });

  it('keeps a line that is not JSON as it is', () => {
    for (const line of ['dataharvest-tax-dev-apply: plain output', '{not json', '[1,2]']) expect(formatLogLine(line, 'text')).toBe(line);
  });

  it('escapes control characters of keys, messages and plain lines: an upload cannot drive the terminal', () => {
    const line = JSON.stringify({ level: 'WARN', message: 'object key refused\r', timestamp: '2026-12-01T22:22:54.271Z', key: 'incoming/\x1b]0;owned\x07/x\u009b2J.csv', reason: 'bad\rkey' });
    expect(formatLogLine(line, 'text', 'fn')).toBe('22:22:54.271 fn WARN object key refused\\r key="incoming/\\u001b]0;owned\\u0007/x\\u009b2J.csv" reason="bad\\rkey"');
    expect(formatLogLine('plain \x1b[2Joutput\r', 'text', 'fn')).toBe('plain \\u001b[2Joutput\\r');
  });

  it('--log-format json keeps JSON lines and makes one JSON object of any other line', () => {
    expect(formatLogLine(POWERTOOLS, 'json')).toBe(POWERTOOLS);
    expect(JSON.parse(formatLogLine('the templates declare nodejs24.x', 'json', 'fn'))).toEqual({ timestamp: expect.any(String), function_name: 'fn', message: 'the templates declare nodejs24.x' });
  });
});

describe('metric lines of dataharvest up', () => {
  const EMF = JSON.stringify({
    _aws: {
      Timestamp: Date.parse('2026-12-01T22:22:54.271Z'),
      CloudWatchMetrics: [
        {
          Namespace: 'DataHarvest',
          Dimensions: [['service']],
          Metrics: [
            { Name: 'RowsLoaded', Unit: 'Count' },
            { Name: 'BytesLoaded', Unit: 'Bytes' },
          ],
        },
      ],
    },
    service: 'persistence',
    RowsLoaded: 2,
    BytesLoaded: 120,
  });

  it('shows an EMF line as one short line of its metrics in text', () => {
    expect(formatLogLine(EMF, 'text', 'dataharvest-persistence-dev-persist')).toBe('22:22:54.271 dataharvest-persistence-dev-persist METRICS RowsLoaded=2 BytesLoaded=120');
  });

  it('keeps an EMF line as it is in json', () => {
    expect(formatLogLine(EMF, 'json', 'fn')).toBe(EMF);
  });
});
