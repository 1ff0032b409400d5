import { Readable } from 'node:stream';
import fc from 'fast-check';
import { planChunks } from '../src/chunk-plan';
import { RangeScan, recordStarts } from '../src/record-bounds';

/** Record starts by a full RFC 4180 parse: after each line feed outside quotes. */
function referenceStarts(bytes: Buffer): Array<{ offset: number; line: number }> {
  const starts: Array<{ offset: number; line: number }> = [];
  let quoted = false;
  let line = 1;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 34) quoted = !quoted;
    else if (bytes[i] === 10) {
      line++;
      if (!quoted) starts.push({ offset: i + 1, line });
    }
  }
  return starts;
}

/** A field as RFC 4180 writes it: plain, or quoted with commas, doubled quotes and line breaks (LF and CRLF). */
const field = fc.oneof(
  fc.stringMatching(/^[a-z0-9 ]{0,8}$/),
  fc.array(fc.constantFrom('a', ',', '""', '\n', '\r\n', 'ü', ' '), { maxLength: 10 }).map((parts) => `"${parts.join('')}"`),
);
const csv = fc
  .tuple(fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 40 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([rows, eol, trailing]) => Buffer.from(`id,name\n${rows.map((r) => r.join(',')).join(eol)}${trailing ? eol : ''}`));

const readerOf = (bytes: Buffer) => async (start: number, end: number) => {
  // Hand the range over in small pieces, as a network stream would.
  const range = bytes.subarray(start, end);
  return Readable.from(Array.from({ length: Math.ceil(range.length / 7) }, (_, i) => range.subarray(i * 7, i * 7 + 7)));
};

describe('record bounds', () => {
  it('finds in every range the first record start, whatever the quote state at its start', () => {
    fc.assert(
      fc.property(csv, fc.integer({ min: 1, max: 64 }), (bytes, size) => {
        const starts = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => i * size);
        const scans = starts.map((s) => {
          const scan = new RangeScan();
          scan.push(bytes.subarray(s, Math.min(s + size, bytes.length)));
          return scan;
        });
        const reference = referenceStarts(bytes);
        const expected = starts.map((s) => reference.find((r) => r.offset > s && r.offset <= s + size)).filter((r) => r !== undefined);
        expect(recordStarts(starts, scans)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('planChunks', () => {
  it('cuts a file into ranges that start at records, cover every byte after the header once, and know their lines', async () => {
    await fc.assert(
      fc.asyncProperty(csv, fc.integer({ min: 1, max: 100 }), async (bytes, chunkSize) => {
        const plan = await planChunks(readerOf(bytes), bytes.length, chunkSize);
        const reference = referenceStarts(bytes);
        if (reference[0]!.offset >= bytes.length) return expect(plan).toBeUndefined();
        expect(plan!.header).toEqual({ start: 0, end: reference[0]!.offset });
        let at = plan!.header.end;
        for (const chunk of plan!.chunks) {
          expect(chunk.start).toBe(at);
          expect(reference).toContainEqual({ offset: chunk.start, line: chunk.firstLine });
          at = chunk.end;
        }
        expect(at).toBe(bytes.length);
        // Chunks are about chunkSize long: at most one per range, never empty.
        expect(plan!.chunks.length).toBeLessThanOrEqual(Math.ceil(bytes.length / chunkSize));
        expect(plan!.chunks.every((c) => c.end > c.start)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reads each byte once and gives up on the first failed read', async () => {
    const bytes = Buffer.from(`a,b\n${'1,2\n'.repeat(100)}`);
    let read = 0;
    const plan = await planChunks(
      async (s, e) => {
        read += e - s;
        return readerOf(bytes)(s, e);
      },
      bytes.length,
      16,
    );
    expect(read).toBe(bytes.length);
    expect(plan!.chunks).toHaveLength(Math.ceil(bytes.length / 16) - 1);
    await expect(
      planChunks(
        async () => {
          throw new Error('lost');
        },
        bytes.length,
        16,
      ),
    ).rejects.toThrow('lost');
  });
});
