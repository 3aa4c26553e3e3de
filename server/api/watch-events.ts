// Watch events on the wire. Every watcher of a key receives the same change:
// the Event for it is built once (its prev_kv read once) and encoded once,
// and every response that carries it reuses those bytes. A change notified
// to a thousand watchers costs one encoding, not a thousand.
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { WatchResponse, type ResponseHeader } from '../../proto/gen/etcdserverpb/rpc.js';
import { Event, Event_EventType, type KeyValue } from '../../proto/gen/mvccpb/kv.js';
import type { MessageEncoder } from '../codec.js';
import type { ChangeEvent, MvccStore } from '../mvcc/store.js';

interface BuiltEvents {
  plain?: Event;
  withPrevKv?: Event;
}

/** Events built per change; a change (and its entry here) lives as long as some response holds it. */
const built = new WeakMap<ChangeEvent, BuiltEvents>();
/** Bytes of each built event (the payload of WatchResponse field 11). */
const encoded = new WeakMap<Event, Uint8Array>();

/** The change last asked for and its events: the watchers of one key ask for the same change one after another. */
let lastChange: ChangeEvent | undefined;
let lastBuilt: BuiltEvents | undefined;

/** The Event for a change, with the key's previous kv when asked for (as etcd: none for a creation or once compacted away). */
export function watchEvent(store: MvccStore, change: ChangeEvent, prevKv: boolean): Event {
  let events = change === lastChange ? lastBuilt : built.get(change);
  if (events === undefined) built.set(change, (events = {}));
  lastChange = change;
  lastBuilt = events;
  if (!prevKv) return (events.plain ??= { type: eventType(change), kv: change.kv, prevKv: undefined });
  return (events.withPrevKv ??= { type: eventType(change), kv: change.kv, prevKv: previousKv(store, change) });
}

/**
 * Bytes of a response's fields before its events (the header, the watch id
 * and any flags), made once per response shape. The header — the same
 * object for every watcher of one revision (WatchStream shares it) — is
 * encoded once per header object.
 */
const headerFields = new WeakMap<ResponseHeader, { bytes: Uint8Array; encoded: ResponseHeader }>();
/** The gRPC message prefix: a compressed flag and the length (PROTOCOL-HTTP2.md). */
const grpcPrefixBytes = 5;
/** Field 2, watch_id (varint), and field 11, events (length-delimited): their tags. */
const watchIdTag = 0x10;
const eventsTag = 0x5a;

/** Field 1's bytes for `header`; made again should the object have changed since (a header is never to be changed once sent, but a stale cache would send wrong revisions). */
function headerField(header: ResponseHeader): Uint8Array {
  const cached = headerFields.get(header);
  if (cached !== undefined && sameHeader(cached.encoded, header)) return cached.bytes;
  const bytes = WatchResponse.encode({ ...emptyResponse, header }).finish();
  headerFields.set(header, { bytes, encoded: { ...header } });
  return bytes;
}

function sameHeader(a: ResponseHeader, b: ResponseHeader): boolean {
  return a.revision === b.revision && a.raftTerm === b.raftTerm && a.memberId === b.memberId && a.clusterId === b.clusterId;
}

/** A watch id written as a JS number must be exact. */
const watchIdPlainMax = BigInt(Number.MAX_SAFE_INTEGER);

const emptyResponse: WatchResponse = WatchResponse.fromPartial({});

/** Whether the response carries only a header, a non-negative watch id and events: every response of events does. */
function isPlain(response: WatchResponse): boolean {
  return response.watchId >= 0n && response.watchId <= watchIdPlainMax && !response.created && !response.canceled && response.compactRevision === 0n && response.cancelReason === '' && !response.fragment;
}

/** The bytes of the fields before the events, for a response that is not plain (creates, cancels, fragments): rare, so the generated encoder's. */
function headOf(response: WatchResponse): Uint8Array {
  return WatchResponse.encode({ ...response, events: [] }).finish();
}

function varintBytes(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    bytes++;
  }
  return bytes;
}

function writeVarint(target: Buffer, offset: number, value: number): number {
  while (value >= 0x80) {
    target[offset++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  target[offset++] = value;
  return offset;
}

/**
 * Scratch space of frameWatchResponses, kept between calls (it runs to the
 * end without yielding, so one set serves every stream): the bytes of every
 * event in the order they are written, the size of each response, and the
 * head of each response that is not plain.
 */
const scratch = { events: [] as Uint8Array[], sizes: [] as number[], heads: [] as Array<Uint8Array | undefined> };

/**
 * The responses as gRPC messages, framed and concatenated in one buffer:
 * the bytes ts-proto's encoder and frameMessage would give, one by one
 * (watch-events.test.ts checks it), without a writer or a copy per
 * response. Each event's bytes come from the cache, the header's too.
 */
export function frameWatchResponses(responses: readonly WatchResponse[]): Buffer {
  const { events, sizes, heads } = scratch;
  events.length = 0;
  sizes.length = 0;
  heads.length = 0;
  // The responses of one write mostly share their header and often their events (watchers of one key):
  // the last of each looked up is kept at hand.
  let lastHeader: ResponseHeader | undefined;
  let lastHeaderBytes: Uint8Array | undefined;
  let lastEvent: Event | undefined;
  let lastEventBytes: Uint8Array | undefined;
  try {
    let total = 0;
    for (const response of responses) {
      let size: number;
      if (isPlain(response)) {
        if (response.header !== undefined && response.header !== lastHeader) {
          lastHeader = response.header;
          lastHeaderBytes = headerField(lastHeader);
        }
        size = response.header === undefined ? 0 : (lastHeaderBytes as Uint8Array).length;
        if (response.watchId !== 0n) size += 1 + varintBytes(Number(response.watchId));
        heads.push(undefined);
      } else {
        const head = headOf(response);
        heads.push(head);
        size = head.length;
      }
      for (const event of response.events) {
        if (event !== lastEvent) {
          lastEvent = event;
          lastEventBytes = encodedEvent(event);
        }
        const bytes = lastEventBytes as Uint8Array;
        events.push(bytes);
        size += 1 + varintBytes(bytes.length) + bytes.length;
      }
      if (size > 0xffff_ffff) throw new Error(`a watch response of ${size} bytes does not fit gRPC's framing`);
      sizes.push(size);
      total += grpcPrefixBytes + size;
    }
    const framed = Buffer.allocUnsafe(total);
    let offset = 0;
    let eventAt = 0;
    for (let i = 0; i < responses.length; i++) {
      const response = responses[i] as WatchResponse;
      framed[offset] = 0;
      framed.writeUInt32BE(sizes[i] as number, offset + 1);
      offset += grpcPrefixBytes;
      const head = heads[i];
      if (head !== undefined) {
        framed.set(head, offset);
        offset += head.length;
      } else {
        if (response.header !== undefined) {
          if (response.header !== lastHeader) {
            lastHeader = response.header;
            lastHeaderBytes = headerField(lastHeader);
          }
          const header = lastHeaderBytes as Uint8Array;
          framed.set(header, offset);
          offset += header.length;
        }
        if (response.watchId !== 0n) {
          framed[offset++] = watchIdTag;
          offset = writeVarint(framed, offset, Number(response.watchId));
        }
      }
      for (let e = 0; e < response.events.length; e++) {
        const bytes = events[eventAt++] as Uint8Array;
        framed[offset++] = eventsTag;
        offset = writeVarint(framed, offset, bytes.length);
        framed.set(bytes, offset);
        offset += bytes.length;
      }
    }
    if (offset !== total) throw new Error(`watch responses framed into ${offset} bytes, ${total} expected`);
    return framed;
  } finally {
    // Nothing of the responses is held once they are framed.
    events.length = 0;
    heads.length = 0;
  }
}

/** Encodes a WatchResponse as ts-proto does (same fields, same order), each event's bytes taken from the cache. */
export const watchResponseEncoder: MessageEncoder<WatchResponse> = {
  encode(message: WatchResponse, writer: BinaryWriter = new BinaryWriter()): BinaryWriter {
    WatchResponse.encode(message.events.length === 0 ? message : { ...message, events: [] }, writer);
    for (const event of message.events) writer.uint32(90).bytes(encodedEvent(event));
    return writer;
  },
};

function encodedEvent(event: Event): Uint8Array {
  let bytes = encoded.get(event);
  if (bytes === undefined) encoded.set(event, (bytes = Event.encode(event).finish()));
  return bytes;
}

function eventType(change: ChangeEvent): Event_EventType {
  return change.type === 'put' ? Event_EventType.PUT : Event_EventType.DELETE;
}

function previousKv(store: MvccStore, change: ChangeEvent): KeyValue | undefined {
  if (change.type === 'put' && change.kv.version === 1n) return undefined;
  try {
    return store.range({ start: change.kv.key.toString('latin1') }, { revision: Number(change.kv.modRevision) - 1 }).kvs[0];
  } catch {
    return undefined; // compacted away meanwhile: sent without prev_kv, as etcd does
  }
}
