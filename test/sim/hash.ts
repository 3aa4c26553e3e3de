/** Small deterministic hashes for the simulator (not cryptographic; two 32-bit lanes ≈ 53 bits). */

export function hashBytes(data: Uint8Array, seed = 0): number {
  let h1 = 0x811c9dc5 ^ seed;
  let h2 = 0x01000193 ^ seed;
  for (const byte of data) {
    h1 = Math.imul(h1 ^ byte, 0x01000193);
    h2 = Math.imul(h2 ^ byte, 0x5bd1e995);
  }
  return combine(h1, h2);
}

export function hashString(s: string, seed = 0): number {
  let h1 = 0x811c9dc5 ^ seed;
  let h2 = 0x01000193 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return combine(h1, h2);
}

/** Fold numbers into a running hash (used for the applied-sequence chain). */
export function mix(h: number, ...values: number[]): number {
  let h1 = (h % 4294967296) | 0;
  let h2 = Math.floor(h / 4294967296) | 0;
  for (const v of values) {
    const lo = v | 0;
    const hi = Math.floor(v / 4294967296) | 0;
    h1 = Math.imul(h1 ^ lo, 0x01000193) ^ hi;
    h2 = Math.imul(h2 ^ (lo + 0x9e3779b9), 0x5bd1e995) ^ Math.imul(hi, 31);
  }
  return combine(h1, h2);
}

function combine(h1: number, h2: number): number {
  return (h2 >>> 11) * 4294967296 + (h1 >>> 0);
}

export function hex(h: number): string {
  return h.toString(16).padStart(14, '0');
}
