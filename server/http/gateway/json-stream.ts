// The request body of a streaming gateway call (/v3/watch,
// /v3/lease/keepalive): JSON values one after another, with or without
// whitespace between them, as Go's json.Decoder reads them. JsonValues cuts
// the bytes as they arrive into whole top-level values.
//
// Worked example: the chunks `{"create_request":{"key":"YQ=="}}{"ca` and
// `ncel_request":{"watch_id":"0"}}` yield `{"create_request":{"key":"YQ=="}}`
// with the first and `{"cancel_request":{"watch_id":"0"}}` with the second.
// Braces inside strings ("{") and escaped quotes (\") do not count.
export class JsonValueTooLargeError extends Error {
  override readonly name = 'JsonValueTooLargeError';
  constructor(readonly bytesMax: number) {
    super(`a request of the stream is larger than ${bytesMax} bytes`);
  }
}

export class JsonValues {
  private pending = '';
  /** Scan state, carried from one chunk to the next. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Where in `pending` the scan goes on. */
  private scanned = 0;

  constructor(private readonly valueBytesMax: number) {}

  /** The values that `chunk` completes, in order. Throws JsonValueTooLargeError when one grows past the bound. */
  push(chunk: string): string[] {
    this.pending += chunk;
    const values: string[] = [];
    let start = this.valueStart();
    for (let at = this.scanned; at < this.pending.length; at++) {
      const char = this.pending[at];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (char === '\\') this.escaped = true;
        else if (char === '"') this.inString = false;
        continue;
      }
      if (char === '"') this.inString = true;
      else if (char === '{' || char === '[') this.depth++;
      else if (char === '}' || char === ']') {
        this.depth--;
        if (this.depth === 0) {
          values.push(this.pending.slice(start, at + 1));
          this.pending = this.pending.slice(at + 1);
          at = -1;
          start = this.valueStart();
        }
      }
    }
    this.scanned = this.pending.length;
    if (Buffer.byteLength(this.pending) > this.valueBytesMax) throw new JsonValueTooLargeError(this.valueBytesMax);
    return values;
  }

  /** What is left when the body ended: a value cut short, or only whitespace (then ''). */
  rest(): string {
    return this.pending.trim();
  }

  /** Leading whitespace between values is dropped. */
  private valueStart(): number {
    if (this.depth === 0 && !this.inString) {
      this.pending = this.pending.trimStart();
      this.scanned = 0;
    }
    return 0;
  }
}
