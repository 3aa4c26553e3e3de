// Keys and values are bytes (etcd's API), carried as base64 in the gateway's
// JSON. The console keeps them as Uint8Array, shows them as UTF-8 text where
// they are text and as hex where they are not, and names them in maps by
// their "binary string" (one char per byte), which sorts as the bytes do.

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

export function fromBase64(text: string | undefined): Uint8Array {
  return text === undefined ? new Uint8Array(0) : fromBinaryString(atob(text));
}

export function toBase64(bytes: Uint8Array): string {
  return btoa(binaryString(bytes));
}

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** The bytes as text, with U+FFFD where they are not UTF-8 (for display only). */
export function displayText(bytes: Uint8Array): string {
  return utf8Lenient.decode(bytes);
}

/** The bytes as text, or undefined when they are not valid UTF-8 or hold control characters other than tab and newlines. */
export function strictText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

/** A map key for `bytes`: one char per byte, so that maps and sorts agree with etcd's byte order. */
export function binaryString(bytes: Uint8Array): string {
  let text = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return text;
}

export function fromBinaryString(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** "de ad be ef", sixteen bytes to a line. */
export function toHex(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push([...bytes.subarray(i, i + 16)].map((byte) => byte.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}

/** Hex digits in pairs, any whitespace between them; undefined when that is not what `text` holds. */
export function parseHex(text: string): Uint8Array | undefined {
  const digits = text.replace(/\s+/g, '');
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) return undefined;
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, b);
}

/** Byte order, as etcd sorts keys. */
export function compare(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

/**
 * The range end that covers every key starting with `prefix` (etcd's
 * GetPrefixRangeEnd): the prefix with its last byte below 0xff incremented
 * and what follows dropped; [0] (every key) when there is no such byte.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] ?? 0xff;
    if (byte < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = byte + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}

/** The smallest key after `key`. */
export function keyAfter(key: Uint8Array): Uint8Array {
  return concat(key, new Uint8Array([0]));
}
