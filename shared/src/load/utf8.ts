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

/**
 * Offset of the first C1 control character (U+0080..U+009F, encoded C2 80..C2 9F) in [from, to), or Infinity. Text
 * refuses them like the C0 ones; a byte table cannot, as 80..9F also continue other characters.
 */
export function c1Offset(buf: Uint8Array, from: number, to: number): number {
  for (let i = buf.indexOf(0xc2, from); i >= 0 && i < to; i = buf.indexOf(0xc2, i + 1)) {
    const next = buf[i + 1]!;
    if (next >= 0x80 && next <= 0x9f) return i;
  }
  return Infinity;
}

/** The reason for the C1 control character at `at`, or undefined when there is none there. */
export function c1Reason(buf: Uint8Array, at: number): string | undefined {
  const next = buf[at + 1]!;
  return buf[at] === 0xc2 && next >= 0x80 && next <= 0x9f ? `control character U+00${next.toString(16).toUpperCase()}` : undefined;
}
