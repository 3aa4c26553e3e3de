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
// makes that protobufjs does not (base64, value types).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import protobuf from 'protobufjs';

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

/** A request's JSON text (empty: `{}`) as the wire bytes of `type`. Throws GatewayRequestError. */
export function requestBytes(type: Type, text: string): Uint8Array {
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new GatewayRequestError((error as Error).message);
  }
  return type.encode(type.fromObject(messageObject(type, value, type.fullName.slice(1)))).finish();
}

/**
 * `value` with its keys turned into the declared field names, its bytes
 * checked as base64, recursively; what no field names is dropped, as
 * etcd's gateway ignores it.
 */
function messageObject(type: Type, value: unknown, path: string): Record<string, unknown> {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new GatewayRequestError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type ${path}`);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const field = type.fields[key] ?? type.fieldsArray.find((candidate) => util.camelCase(candidate.name) === key);
    if (field === undefined || item === null) continue;
    const converted = (one: unknown): unknown => fieldValue(field, one, `${path}.${field.name}`);
    if (field.repeated) {
      if (!Array.isArray(item)) throw new GatewayRequestError(`json: cannot unmarshal ${jsonKind(item)} into Go value of type []${field.type}`);
      out[field.name] = item.map(converted);
    } else {
      out[field.name] = converted(item);
    }
  }
  return out;
}

function fieldValue(field: protobuf.Field, value: unknown, path: string): unknown {
  if (field.resolvedType instanceof protobuf.Type) return messageObject(field.resolvedType, value, path);
  if (field.resolvedType instanceof protobuf.Enum) {
    if (typeof value === 'string' && !(value in field.resolvedType.values)) throw new GatewayRequestError(`unknown value "${value}" for enum ${field.resolvedType.fullName.slice(1)}`);
    if (typeof value !== 'string' && typeof value !== 'number') throw new GatewayRequestError(`json: cannot unmarshal ${jsonKind(value)} into enum ${field.resolvedType.fullName.slice(1)}`);
    return value;
  }
  switch (field.type) {
    case 'bytes':
      if (typeof value !== 'string') throw new GatewayRequestError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type []uint8`);
      checkBase64(value);
      return value;
    case 'string':
      if (typeof value !== 'string') throw new GatewayRequestError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type string`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw new GatewayRequestError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type bool`);
      return value;
    default:
      return integer(field.type, value);
  }
}

/** An integer field: a JSON number, or a decimal string (how 64-bit values travel). */
function integer(type: string, value: unknown): string | number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^-?\d+$/.test(text)) throw new GatewayRequestError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type ${type}`);
  const unsigned = type.startsWith('uint') || type.startsWith('fixed');
  const bits = type.endsWith('64') ? 64n : 32n;
  const number = BigInt(text);
  const min = unsigned ? 0n : -(1n << (bits - 1n));
  const max = unsigned ? (1n << bits) - 1n : (1n << (bits - 1n)) - 1n;
  if (number < min || number > max) throw new GatewayRequestError(`json: cannot unmarshal number ${text} into Go value of type ${type}`);
  return text;
}

/** Go's base64.StdEncoding: the alphabet, padding to a multiple of four; its message names the first bad byte. */
function checkBase64(text: string): void {
  const bad = /[^A-Za-z0-9+/=]|=[^=]/.exec(text);
  if (bad !== null) throw new GatewayRequestError(`illegal base64 data at input byte ${bad.index}`);
  if (text.length % 4 !== 0) throw new GatewayRequestError(`illegal base64 data at input byte ${text.length - (text.length % 4)}`);
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}
