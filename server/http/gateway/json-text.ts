// JSON text as etcd's gateway reads it: Go's encoding/json scanner, with its
// error messages, and numbers kept as their source text. A request's 64-bit
// integers (`"ID": 7587868923876511234`, as Python's json writes a lease ID)
// must not pass through a double, which JSON.parse would do.
//
// Two readings, as Go has two:
// - readFirstValue: json.Decoder.Decode, which grpc-gateway reads a request
//   body with: the first value; what follows it is never looked at; a body
//   that ends inside the value is "unexpected EOF"; a body with nothing but
//   whitespace has no value (io.EOF, which grpc-gateway takes as `{}`).
// - readWholeValue: json.Unmarshal, which jsonpb applies to the text inside a
//   quoted 64-bit integer (`"limit":"1.5"`): anything after the value is an
//   error, and so is an end inside it ("unexpected end of JSON input").
//
// Worked example: `{"key":"YQ==",}` fails at the `}` after the comma with
// Go's "invalid character '}' looking for beginning of object key string".

/** A JSON number as written: `1e3` stays `1e3`, so that the reader decides what it means. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | { [key: string]: JsonValue };

/** Text that is not JSON; the message is Go's. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

/** Nesting deeper than this is refused (Go's limit is 10000; a request needs a handful). */
const depthMax = 10_000;

/** The first JSON value of `text`, or undefined when there is none (only whitespace). */
export function readFirstValue(text: string): JsonValue | undefined {
  const reader = new Reader(text, 'unexpected EOF');
  reader.skipSpace();
  if (reader.atEnd()) return undefined;
  return reader.value(0);
}

/** `text` as exactly one JSON value, surrounded by whitespace at most. */
export function readWholeValue(text: string): JsonValue {
  const reader = new Reader(text, 'unexpected end of JSON input');
  reader.skipSpace();
  const value = reader.value(0);
  reader.skipSpace();
  if (!reader.atEnd()) throw reader.invalid('after top-level value');
  return value;
}

/** Go's quoteChar: the character between single quotes, escaped as a Go string would be. */
function quoteChar(char: string): string {
  if (char === "'") return `'\\''`;
  if (char === '"') return `'"'`;
  const quoted = JSON.stringify(char);
  return `'${quoted.slice(1, -1)}'`;
}

class Reader {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly endMessage: string,
  ) {}

  atEnd(): boolean {
    return this.at >= this.text.length;
  }

  skipSpace(): void {
    while (this.at < this.text.length && ' \t\r\n'.includes(this.text[this.at] as string)) this.at++;
  }

  invalid(context: string): JsonSyntaxError {
    if (this.atEnd()) return new JsonSyntaxError(this.endMessage);
    const char = String.fromCodePoint(this.text.codePointAt(this.at) as number);
    return new JsonSyntaxError(`invalid character ${quoteChar(char)} ${context}`);
  }

  value(depth: number): JsonValue {
    if (depth > depthMax) throw new JsonSyntaxError('exceeded max depth');
    const char = this.text[this.at];
    if (char === '{') return this.object(depth + 1);
    if (char === '[') return this.array(depth + 1);
    if (char === '"') return this.string();
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.number();
    if (char === 't') return this.literal('true', true);
    if (char === 'f') return this.literal('false', false);
    if (char === 'n') return this.literal('null', null);
    throw this.invalid('looking for beginning of value');
  }

  private object(depth: number): { [key: string]: JsonValue } {
    const out: { [key: string]: JsonValue } = {};
    this.items('}', 'after object key:value pair', () => {
      if (this.text[this.at] !== '"') throw this.invalid('looking for beginning of object key string');
      const key = this.string();
      this.skipSpace();
      if (this.text[this.at] !== ':') throw this.invalid('after object key');
      this.at++;
      this.skipSpace();
      // Go keeps the last of repeated keys; so does this (and jsonpb then reads the map).
      Object.defineProperty(out, key, { value: this.value(depth), enumerable: true, writable: true, configurable: true });
    });
    return out;
  }

  private array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.items(']', 'after array element', () => out.push(this.value(depth)));
    return out;
  }

  /**
   * The items of an object or an array, from its opening character to
   * `close`, each read by `item`; `afterItem` is Go's context for a bad
   * character where a comma or `close` belongs.
   */
  private items(close: string, afterItem: string, item: () => void): void {
    this.at++;
    this.skipSpace();
    if (this.text[this.at] === close) {
      this.at++;
      return;
    }
    for (;;) {
      item();
      this.skipSpace();
      const next = this.text[this.at];
      if (next === close) {
        this.at++;
        return;
      }
      if (next !== ',') throw this.invalid(afterItem);
      this.at++;
      this.skipSpace();
    }
  }

  private string(): string {
    let out = '';
    this.at++;
    for (;;) {
      const char = this.text[this.at];
      if (char === undefined) throw this.invalid('in string literal');
      if (char === '"') {
        this.at++;
        return out;
      }
      if (char < ' ') throw this.invalid('in string literal');
      if (char !== '\\') {
        out += char;
        this.at++;
        continue;
      }
      this.at++;
      const escape = this.text[this.at];
      const simple = escape === undefined ? undefined : simpleEscapes[escape];
      if (simple !== undefined) {
        out += simple;
        this.at++;
      } else if (escape === 'u') {
        this.at++;
        for (let digit = 0; digit < 4; digit++) {
          if (!/[0-9a-fA-F]/.test(this.text[this.at + digit] ?? '')) {
            this.at += digit;
            throw this.invalid('in \\u hexadecimal character escape');
          }
        }
        out += String.fromCharCode(Number.parseInt(this.text.slice(this.at, this.at + 4), 16));
        this.at += 4;
      } else {
        throw this.invalid('in string escape code');
      }
    }
  }

  private number(): JsonNumber {
    const start = this.at;
    if (this.text[this.at] === '-') this.at++;
    if (this.text[this.at] === '0') this.at++;
    else if (!this.digits()) throw this.invalid('in numeric literal');
    if (this.text[this.at] === '.') {
      this.at++;
      if (!this.digits()) throw this.invalid('after decimal point in numeric literal');
    }
    if (this.text[this.at] === 'e' || this.text[this.at] === 'E') {
      this.at++;
      if (this.text[this.at] === '+' || this.text[this.at] === '-') this.at++;
      if (!this.digits()) throw this.invalid('in exponent of numeric literal');
    }
    return new JsonNumber(this.text.slice(start, this.at));
  }

  /** Reads digits; false when there was none. */
  private digits(): boolean {
    const start = this.at;
    while (this.at < this.text.length && (this.text[this.at] as string) >= '0' && (this.text[this.at] as string) <= '9') this.at++;
    return this.at > start;
  }

  private literal<T>(word: string, value: T): T {
    for (let index = 1; index < word.length; index++) {
      if (this.text[this.at + index] !== word[index]) {
        this.at += index;
        throw this.invalid(`in literal ${word} (expecting ${quoteChar(word[index] as string)})`);
      }
    }
    this.at += word.length;
    return value;
  }
}

const simpleEscapes: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
