// The JSON of etcd's gateway, both ways, as grpc-gateway's JSONPb marshaler
// (OrigName, no defaults) writes and reads it:
// - field names as the .proto declares them (`create_revision`, `dbSize`,
//   `ID`); requests may also use the lowerCamelCase JSON names
//   (`createRevision`), as jsonpb accepts both;
// - 64-bit integers as decimal strings (numbers accepted in requests), bytes
//   as standard base64 with padding, enums by name (numbers accepted);
// - zero values, empty lists and unset messages left out.
// protobufjs reads cairn's own etcd-compatible .proto files (proto/) and does
// the conversion; this file adds the two name forms and the checks jsonpb
// makes that protobufjs does not (base64, value types), with jsonpb's error
// messages. Request text is read by json-text.ts (Go's scanner, numbers kept
// exact); response text is written by goJson (Go's escapes).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { JsonNumber, JsonSyntaxError, readFirstValue, readWholeValue, type JsonValue } from './json-text.js';

const { Root, util } = protobuf;
type Type = protobuf.Type;

/** The protos the gateway serves, found beside the compiled code as in the source tree (dist/server/http/gateway → proto/). */
const protoDir = fileURLToPath(new URL('../../../../proto/', import.meta.url));
const protoFiles = ['etcdserverpb/rpc.proto', 'v3lockpb/v3lock.proto', 'v3electionpb/v3election.proto'];

/** A request the gateway cannot turn into a message: gRPC's InvalidArgument, as grpc-gateway answers it. */
export class GatewayRequestError extends Error {
  override readonly name = 'GatewayRequestError';
}

let loaded: protobuf.Root | undefined;

/** The protos, read once. */
export function gatewayProtos(): protobuf.Root {
  if (loaded === undefined) {
    const root = new Root();
    root.resolvePath = (_origin, target) => join(protoDir, target);
    root.loadSync(protoFiles, { keepCase: true });
    root.resolveAll();
    loaded = root;
  }
  return loaded;
}

const toJsonOptions: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, defaults: false, json: true };

/** A response message's wire bytes as the gateway's JSON value (an object, before stringifying). */
export function responseJson(type: Type, bytes: Uint8Array): Record<string, unknown> {
  return withoutDefaults(type, type.toObject(type.decode(bytes), toJsonOptions));
}

/**
 * `value` as JSON text the way Go's encoding/json writes it (jsonpb and
 * grpc-gateway's error bodies use it): `<`, `>`, `&`, U+2028 and U+2029 as
 * \u escapes, and the control characters JavaScript writes as `\b` and `\f`
 * as `\u0008` and `\u000c`. The rest is what JSON.stringify writes.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/\\([^])|[<>&\u2028\u2029]/g, (whole: string, escaped: string | undefined) => {
    if (escaped === undefined) return `\\u${whole.charCodeAt(0).toString(16).padStart(4, '0')}`;
    return goEscapes[escaped] ?? whole;
  });
}

const goEscapes: Readonly<Record<string, string>> = { b: '\\u0008', f: '\\u000c' };

/**
 * `object` without the zero values an encoder wrote anyway (proto3 lets it:
 * `more: false` on the wire); jsonpb leaves them out whether or not they
 * were on the wire. Members of a oneof are kept: being set is their value.
 */
function withoutDefaults(type: Type, object: Record<string, unknown>): Record<string, unknown> {
  for (const [name, value] of Object.entries(object)) {
    const field = type.fields[name];
    if (field === undefined || field.partOf !== null) continue;
    const message = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    if (Array.isArray(value)) {
      if (value.length === 0) delete object[name];
      else if (message !== undefined) for (const item of value) withoutDefaults(message, item as Record<string, unknown>);
    } else if (message !== undefined) {
      withoutDefaults(message, value as Record<string, unknown>);
    } else if (value === false || value === 0 || value === '0' || value === '') {
      delete object[name];
    } else if (field.resolvedType instanceof protobuf.Enum && field.resolvedType.values[value as string] === 0) {
      delete object[name];
    }
  }
  return object;
}

/** A request's JSON text (nothing but whitespace: `{}`) as the wire bytes of `type`. Throws GatewayRequestError. */
export function requestBytes(type: Type, text: string): Uint8Array {
  let value: JsonValue | undefined;
  try {
    value = readFirstValue(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new GatewayRequestError(error.message);
    throw error;
  }
  return type.encode(type.fromObject(messageObject(type, value ?? null))).finish();
}

/**
 * `value` with its keys turned into the declared field names and its values
 * checked as jsonpb checks them, recursively; what no field names is
 * dropped, as etcd's gateway ignores it, and so is a null. jsonpb reads a
 * message as a Go map first, and a repeated field as a Go slice: their
 * errors name those types.
 */
function messageObject(type: Type, value: JsonValue): Record<string, unknown> {
  if (value === null) return {};
  if (!isObject(value)) throw typeError(value, 'map[string]json.RawMessage');
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const field = type.fields[key] ?? type.fieldsArray.find((candidate) => util.camelCase(candidate.name) === key);
    if (field === undefined || item === null) continue;
    if (field.repeated) {
      if (!Array.isArray(item)) throw typeError(item, '[]json.RawMessage');
      out[field.name] = item.map((one) => fieldValue(field, one));
    } else {
      out[field.name] = fieldValue(field, item);
    }
  }
  return out;
}

function fieldValue(field: protobuf.Field, value: JsonValue): unknown {
  if (field.resolvedType instanceof protobuf.Type) return messageObject(field.resolvedType, value);
  if (field.resolvedType instanceof protobuf.Enum) return enumValue(field.resolvedType, value);
  if (value === null) return zeroValues[field.type] ?? '0';
  switch (field.type) {
    case 'bytes':
      if (typeof value !== 'string') throw typeError(value, '[]uint8');
      checkBase64(value);
      return value;
    case 'string':
      if (typeof value !== 'string') throw typeError(value, 'string');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw typeError(value, 'bool');
      return value;
    default:
      return integer(goIntegerTypes[field.type] ?? field.type, value);
  }
}

const zeroValues: Readonly<Record<string, unknown>> = { bytes: '', string: '', bool: false };

/** An enum by name, or by number (any int32, as Go keeps unknown numbers). */
function enumValue(type: protobuf.Enum, value: JsonValue): string | number {
  const goType = goTypeName(type);
  if (typeof value === 'string') {
    if (!(value in type.values)) throw new GatewayRequestError(`unknown value ${JSON.stringify(value)} for enum ${goType}`);
    return value;
  }
  if (value === null) return 0;
  return Number(integer(goType, value, 'int32'));
}

/** Go's integer types of the protobuf scalar types. */
const goIntegerTypes: Readonly<Record<string, string>> = {
  int64: 'int64', sint64: 'int64', sfixed64: 'int64',
  uint64: 'uint64', fixed64: 'uint64',
  int32: 'int32', sint32: 'int32', sfixed32: 'int32',
  uint32: 'uint32', fixed32: 'uint32',
};

/**
 * An integer field: a JSON number, or a string holding one (how 64-bit
 * values travel). As jsonpb, the text inside the quotes is read as JSON
 * itself, so `" 7"` is 7 and `"x"` is Go's syntax error. `goType` names the
 * type in errors; `bits` is its size when it is not a Go integer type
 * (an enum, an int32).
 */
function integer(goType: string, value: JsonValue, bits = goType): string {
  let number = value;
  if (typeof value === 'string') {
    try {
      number = readWholeValue(value);
    } catch (error) {
      if (error instanceof JsonSyntaxError) throw new GatewayRequestError(error.message);
      throw error;
    }
    if (number === null) return '0';
  }
  if (!(number instanceof JsonNumber)) throw typeError(number, goType);
  const text = number.text;
  const outOfRange = new GatewayRequestError(`json: cannot unmarshal number ${text} into Go value of type ${goType}`);
  if (!/^-?\d+$/.test(text)) throw outOfRange;
  const unsigned = bits.startsWith('uint');
  const size = bits.endsWith('64') ? 64n : 32n;
  const parsed = BigInt(text);
  const min = unsigned ? 0n : -(1n << (size - 1n));
  const max = unsigned ? (1n << size) - 1n : (1n << (size - 1n)) - 1n;
  if (parsed < min || parsed > max) throw outOfRange;
  return parsed.toString();
}

/** Go's name of a generated enum type: its package, then its nesting joined by `_` (etcdserverpb.RangeRequest_SortOrder). */
function goTypeName(type: protobuf.Enum): string {
  const [pkg, ...names] = type.fullName.slice(1).split('.');
  return `${pkg}.${names.join('_')}`;
}

function typeError(value: JsonValue, goType: string): GatewayRequestError {
  return new GatewayRequestError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type ${goType}`);
}

/** Go's base64.StdEncoding: the alphabet, padding to a multiple of four; its message names the first bad byte. */
function checkBase64(text: string): void {
  const bad = /[^A-Za-z0-9+/=]|=[^=]/.exec(text);
  if (bad !== null) throw new GatewayRequestError(`illegal base64 data at input byte ${bad.index}`);
  if (text.length % 4 !== 0) throw new GatewayRequestError(`illegal base64 data at input byte ${text.length - (text.length % 4)}`);
}

/** Go's word for the kind of a JSON value in an UnmarshalTypeError. */
function jsonKind(value: JsonValue): string {
  if (value === null) return 'null';
  if (value instanceof JsonNumber) return 'number';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'string' ? 'string' : 'object';
}

function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}
