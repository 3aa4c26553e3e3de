// Value codecs: how application values become the bytes etcd stores, and back.

/** Encodes application values of type `V` to bytes and decodes them back. */
export interface Codec<V> {
  /** Bytes to store for `value`. */
  encode(value: V): Buffer;
  /** The value stored as `bytes`. Throws when the bytes are not a valid encoding. */
  decode(bytes: Buffer): V;
}

/** Values as raw bytes (the default for reads). */
export const bytesCodec: Codec<Buffer> = {
  encode: (value) => value,
  decode: (bytes) => bytes,
};

/** Values as UTF-8 strings. */
export const stringCodec: Codec<string> = {
  encode: (value) => Buffer.from(value, 'utf8'),
  decode: (bytes) => bytes.toString('utf8'),
};

/**
 * Values as JSON text in UTF-8. The type parameter is not checked at run time:
 * `decode` returns whatever the stored JSON parses to.
 */
export function jsonCodec<V>(): Codec<V> {
  return {
    encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
    decode: (bytes) => JSON.parse(bytes.toString('utf8')) as V,
  };
}

/** The built-in codecs. */
export const codecs = {
  bytes: bytesCodec,
  string: stringCodec,
  json: jsonCodec,
} as const;
