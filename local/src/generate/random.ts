/**
 * Deterministic randomness for generated files. Entities (account k, client k) are a pure function of the seed and
 * their index, so files generated separately with one seed still refer to each other.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    // mulberry32: tiny, fast and good enough for test data.
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit hash of the seed and a label, to derive an independent stream per entity. */
export function mix(seed: number, label: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const HEX = '0123456789abcdef';

/** A version-4 shaped UUID drawn from `random`. */
export function uuidFrom(random: () => number): string {
  let out = '';
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) out += '-';
    else if (i === 14) out += '4';
    else if (i === 19) out += HEX[8 + Math.floor(random() * 4)];
    else out += HEX[Math.floor(random() * 16)];
  }
  return out;
}
