/**
 * Offset of the first byte in [from, to) that does not start or continue a well-formed UTF-8 sequence (RFC 3629:
 * no overlongs, no surrogates, nothing above U+10FFFF), or Infinity when there is none. Only called once the native
 * `isUtf8` has said the range is broken, to say where.
 */
export function utf8ErrorOffset(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; ) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const [len, min, max] =
      b >= 0xc2 && b <= 0xdf
        ? [2, 0x80, 0xbf]
        : b === 0xe0
          ? [3, 0xa0, 0xbf]
          : b === 0xed
            ? [3, 0x80, 0x9f]
            : b >= 0xe1 && b <= 0xef
              ? [3, 0x80, 0xbf]
              : b === 0xf0
                ? [4, 0x90, 0xbf]
                : b >= 0xf1 && b <= 0xf3
                  ? [4, 0x80, 0xbf]
                  : b === 0xf4
                    ? [4, 0x80, 0x8f]
                    : [0, 0, 0];
    if (len === 0 || i + len > to) return i;
    const second = buf[i + 1]!;
    if (second < min || second > max) return i;
    for (let k = 2; k < len; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return i;
    i += len;
  }
  return Infinity;
}
