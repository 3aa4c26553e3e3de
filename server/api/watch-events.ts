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

/** A response's head when it has no header and a zero watch id: nothing. */
const noBytes: Uint8Array = new Uint8Array(0);

/**
 * Scratch space of frameWatchResponses, kept between calls (it runs to the
 * end without yielding, so one set serves every stream), per response in
 * order: the bytes before its events (a plain response's header field, or a
 * whole head), the watch id still to write after them (-1: none), its size;
 * and the bytes of every event in the order they are written.
 */
const scratch = { heads: [] as Uint8Array[], ids: [] as number[], sizes: [] as number[], events: [] as Uint8Array[] };

/**
 * The responses as gRPC messages, framed and concatenated in one buffer:
 * the bytes ts-proto's encoder and frameMessage would give, one by one
 * (watch-events.test.ts checks it), without a writer or a copy per
 * response. Each event's bytes come from the cache, the header's too.
 */
export function frameWatchResponses(responses: readonly WatchResponse[]): Buffer {
  const { heads, ids, sizes, events } = scratch;
  // The responses of one write mostly share their header and often their events (watchers of one key):
  // the last of each looked up is kept at hand.
  let lastHeader: ResponseHeader | undefined;
  let lastHeaderBytes = noBytes;
  let lastEvent: Event | undefined;
  let lastEventBytes = noBytes;
  try {
    let total = 0;
    for (const response of responses) {
      let head = noBytes;
      let id = -1;
      if (!isPlain(response)) {
        head = headOf(response);
      } else {
        if (response.header !== undefined) {
          if (response.header !== lastHeader) {
            lastHeader = response.header;
            lastHeaderBytes = headerField(lastHeader);
          }
          head = lastHeaderBytes;
        }
        if (response.watchId !== 0n) id = Number(response.watchId);
      }
      let size = head.length + (id < 0 ? 0 : 1 + varintBytes(id));
      for (const event of response.events) {
        if (event !== lastEvent) {
          lastEvent = event;
          lastEventBytes = encodedEvent(event);
        }
        events.push(lastEventBytes);
        size += 1 + varintBytes(lastEventBytes.length) + lastEventBytes.length;
      }
      if (size > 0xffff_ffff) throw new Error(`a watch response of ${size} bytes does not fit gRPC's framing`);
      heads.push(head);
      ids.push(id);
      sizes.push(size);
      total += grpcPrefixBytes + size;
    }
    const framed = Buffer.allocUnsafe(total);
    let offset = 0;
    let eventAt = 0;
    for (let i = 0; i < responses.length; i++) {
      framed[offset] = 0;
      framed.writeUInt32BE(sizes[i] as number, offset + 1);
      offset += grpcPrefixBytes;
      const head = heads[i] as Uint8Array;
      framed.set(head, offset);
      offset += head.length;
      const id = ids[i] as number;
      if (id >= 0) {
        framed[offset++] = watchIdTag;
        offset = writeVarint(framed, offset, id);
      }
      for (let e = 0; e < (responses[i] as WatchResponse).events.length; e++) {
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
    // Nothing of the responses is held once they are framed, and a throw leaves nothing for the next call.
    heads.length = 0;
    ids.length = 0;
    sizes.length = 0;
    events.length = 0;
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
