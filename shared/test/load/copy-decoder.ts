import type { ValueKind } from '@dataharvest/events/file-schemas';

/**
 * Reads PostgreSQL's binary COPY format back, as the tests' independent check of what the loader sends: each tuple
 * as its line and its values as PostgreSQL would print them (an integer, text, a numeric with its display scale, a
 * UUID in lower case). Follows the format as PostgreSQL documents it ("Binary Format", COPY), not copy-data.ts.
 */
export function decodeCopy(data: Buffer, kinds: readonly ValueKind[]): string[][] {
  if (!data.subarray(0, 11).equals(Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'))) throw new Error('no binary COPY signature');
  let p = 11 + 4;
  p += 4 + data.readInt32BE(p);
  const tuples: string[][] = [];
  for (;;) {
    const fields = data.readInt16BE(p);
    p += 2;
    if (fields === -1) break;
    if (fields !== kinds.length + 1) throw new Error(`a tuple of ${fields} fields`);
    const tuple: string[] = [];
    for (let i = 0; i < fields; i++) {
      const length = data.readInt32BE(p);
      const value = data.subarray(p + 4, p + 4 + length);
      p += 4 + length;
      tuple.push(printed(i === 0 ? 'record_id' : kinds[i - 1]!, value));
    }
    tuples.push(tuple);
  }
  if (p !== data.length) throw new Error(`${data.length - p} bytes after the trailer`);
  return tuples;
}

function printed(kind: ValueKind, value: Buffer): string {
  if (kind === 'record_id') return String(value.readInt32BE(0));
  if (kind === 'uuid') return value.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
  if (kind !== 'money') return value.toString('utf8');
  const [n, weight, sign, scale] = [value.readInt16BE(0), value.readInt16BE(2), value.readUInt16BE(4), value.readInt16BE(6)];
  let whole = 0n;
  let fraction = '';
  for (let i = 0; i < n; i++) {
    const digit = value.readInt16BE(8 + 2 * i);
    if (i <= weight) whole = whole * 10_000n + BigInt(digit);
    else fraction += String(digit).padStart(4, '0');
  }
  for (let i = n; i <= weight; i++) whole *= 10_000n;
  // Fraction groups between the point and the first digit (weight < -1) are zeros.
  fraction = '0000'.repeat(Math.max(0, -weight - 1)) + fraction;
  const minus = sign === 0x4000 ? '-' : '';
  return `${minus}${whole}${scale > 0 ? `.${fraction.padEnd(scale, '0').slice(0, scale)}` : ''}`;
}
