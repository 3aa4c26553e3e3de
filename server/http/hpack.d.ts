// Types for the part of hpack.js (RFC 7541 header compression) that
// authority-repair.ts uses; the package ships none.
declare module 'hpack.js' {
  export interface HeaderField {
    name: string;
    value: string;
    neverIndex?: boolean;
    /** false: a literal that leaves the dynamic table alone. */
    incremental?: boolean;
    /** false: the string is sent as it is, not Huffman-coded. */
    huffman?: boolean;
  }
  interface TableOptions {
    table: { maxSize: number };
  }
  export interface Decompressor {
    write(block: Buffer): boolean;
    /** Decodes what was written; throws on a malformed block. */
    execute(): void;
    read(): HeaderField | null;
  }
  export interface Compressor {
    write(fields: HeaderField[]): boolean;
    read(): Buffer | null;
  }
  const hpack: {
    decompressor: { create(options: TableOptions): Decompressor };
    compressor: { create(options: TableOptions): Compressor };
  };
  export default hpack;
}
