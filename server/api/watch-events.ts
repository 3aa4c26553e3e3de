// Watch events on the wire. Every watcher of a key receives the same change:
// the Event for it is built once (its prev_kv read once) and encoded once,
// and every response that carries it reuses those bytes. A change notified
// to a thousand watchers costs one encoding, not a thousand.
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { WatchResponse } from '../../proto/gen/etcdserverpb/rpc.js';
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

/** The Event for a change, with the key's previous kv when asked for (as etcd: none for a creation or once compacted away). */
export function watchEvent(store: MvccStore, change: ChangeEvent, prevKv: boolean): Event {
  let events = built.get(change);
  if (events === undefined) built.set(change, (events = {}));
  if (!prevKv) return (events.plain ??= { type: eventType(change), kv: change.kv, prevKv: undefined });
  return (events.withPrevKv ??= { type: eventType(change), kv: change.kv, prevKv: previousKv(store, change) });
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
