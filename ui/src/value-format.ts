// How a value is shown and edited: as text, as JSON (pretty-printed, and
// checked before it is saved), or as hex (any bytes). A value opens in the
// first of JSON, text, hex that shows it faithfully.
import { parseHex, strictText, toHex, utf8 } from './bytes.js';

export type ValueFormat = 'text' | 'json' | 'hex';

export const valueFormats: ReadonlyArray<{ readonly format: ValueFormat; readonly label: string }> = [
  { format: 'text', label: 'Text' },
  { format: 'json', label: 'JSON' },
  { format: 'hex', label: 'Hex' },
];

/** The format a value opens in. */
export function formatOf(value: Uint8Array): ValueFormat {
  const text = strictText(value);
  if (text === undefined) return 'hex';
  const trimmed = text.trim();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && parses(trimmed)) return 'json';
  return 'text';
}

/**
 * `value` as the editor shows it in `format`. JSON is pretty-printed only
 * when that loses nothing (JavaScript's numbers would round integers past
 * 2^53, and duplicate keys would collapse): otherwise it shows as written.
 * Bytes that are not UTF-8 text show as text with U+FFFD, so the editor only
 * offers text and JSON for values that are (see `showable`).
 */
export function show(value: Uint8Array, format: ValueFormat): string {
  if (format === 'hex') return toHex(value);
  const text = strictText(value) ?? new TextDecoder().decode(value);
  if (format === 'json' && parses(text)) {
    const parsed: unknown = JSON.parse(text);
    if (JSON.stringify(parsed) === text.trim() || JSON.stringify(parsed, null, 2) === text) return JSON.stringify(parsed, null, 2);
  }
  return text;
}

/** Whether `value` can be edited in `format` without changing bytes the user did not touch. */
export function showable(value: Uint8Array, format: ValueFormat): boolean {
  return format === 'hex' || strictText(value) !== undefined;
}

export type Parsed = { readonly ok: true; readonly value: Uint8Array } | { readonly ok: false; readonly problem: string };

/** The bytes the editor's `text` stands for in `format`, or why it stands for none. */
export function parse(text: string, format: ValueFormat): Parsed {
  if (format === 'hex') {
    const bytes = parseHex(text);
    return bytes === undefined ? { ok: false, problem: 'Hex must be pairs of digits 0-9 and a-f, spaces allowed.' } : { ok: true, value: bytes };
  }
  if (format === 'json') {
    try {
      JSON.parse(text);
    } catch (error) {
      return { ok: false, problem: `Not valid JSON: ${(error as Error).message}` };
    }
  }
  return { ok: true, value: utf8(text) };
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
