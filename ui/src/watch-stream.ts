// A watch through the gateway: POST /v3/watch with one create request; the
// answer streams one JSON line per watch response ({"result": …}) until the
// watch is canceled, or an {"error": …} line ends it. Stopping is aborting
// the fetch (the server cancels the watch when the connection closes).
import { toBase64 } from './bytes.js';
import { errorOf, gatewayHeaders, keyValue, type KeyValue, type ResponseHeader, type WireKeyValue } from './gateway.js';

export interface WatchEvent {
  readonly type: 'PUT' | 'DELETE';
  readonly kv: KeyValue;
  readonly prevKv: KeyValue | undefined;
}

export interface WatchRequest {
  readonly key: Uint8Array;
  /** [0] with key [0]: every key; a prefix's end: the prefix. */
  readonly rangeEnd?: Uint8Array;
  /** The first revision to see (0n or none: from the next change on). */
  readonly startRevision?: bigint;
  readonly prevKv?: boolean;
}

/** What a watch reports, in order. */
export type WatchMessage =
  | { readonly kind: 'created'; readonly revision: bigint }
  | { readonly kind: 'events'; readonly revision: bigint; readonly events: readonly WatchEvent[] }
  /** The start revision is compacted: nothing older than `compactRevision` can be seen. The watch is over. */
  | { readonly kind: 'compacted'; readonly compactRevision: bigint }
  | { readonly kind: 'canceled'; readonly reason: string };

interface WireWatchResponse {
  header?: ResponseHeader;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: string;
  cancel_reason?: string;
  events?: Array<{ type?: 'PUT' | 'DELETE'; kv?: WireKeyValue; prev_kv?: WireKeyValue }>;
}

/** Events a watch line may carry before the page must see them: a bound on what one line holds in memory. */
const lineBytesMax = 64 * 1024 * 1024;

/**
 * Watches until `signal` aborts (resolves), the server ends the watch
 * (resolves after a 'compacted' or 'canceled' message), or the call fails
 * (rejects with a GatewayError, or the fetch's error).
 */
export async function watch(request: WatchRequest, onMessage: (message: WatchMessage) => void, signal: AbortSignal): Promise<void> {
  const createRequest = {
    key: toBase64(request.key),
    ...(request.rangeEnd === undefined ? {} : { range_end: toBase64(request.rangeEnd) }),
    ...(request.startRevision === undefined || request.startRevision === 0n ? {} : { start_revision: String(request.startRevision) }),
    ...(request.prevKv === true ? { prev_kv: true } : {}),
  };
  let response: Response;
  try {
    response = await fetch('/v3/watch', { method: 'POST', headers: gatewayHeaders(), body: JSON.stringify({ create_request: createRequest }), signal });
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  }
  if (!response.ok || response.body === null) throw errorOf(await response.json().catch(() => ({})), response.status);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      pending += value;
      if (pending.length > lineBytesMax) throw new Error('watch: a response line is larger than the console takes');
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== '' && deliver(line, onMessage)) return;
      }
    }
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/** Hands one line's message over; true when the watch is over. */
function deliver(line: string, onMessage: (message: WatchMessage) => void): boolean {
  const parsed = JSON.parse(line) as { result?: WireWatchResponse; error?: { grpc_code?: number; http_code?: number; message?: string } };
  if (parsed.error !== undefined) {
    throw errorOf({ message: parsed.error.message, code: parsed.error.grpc_code }, parsed.error.http_code ?? 500);
  }
  const result = parsed.result ?? {};
  const revision = BigInt(result.header?.revision ?? '0');
  if (result.compact_revision !== undefined && result.compact_revision !== '0') {
    onMessage({ kind: 'compacted', compactRevision: BigInt(result.compact_revision) });
    return true;
  }
  if (result.canceled === true) {
    onMessage({ kind: 'canceled', reason: result.cancel_reason ?? '' });
    return true;
  }
  if (result.created === true) onMessage({ kind: 'created', revision });
  if (result.events !== undefined && result.events.length > 0) {
    const events = result.events.map((event) => ({
      type: event.type === 'DELETE' ? ('DELETE' as const) : ('PUT' as const),
      kv: keyValue(event.kv ?? {}),
      prevKv: event.prev_kv === undefined ? undefined : keyValue(event.prev_kv),
    }));
    onMessage({ kind: 'events', revision, events });
  }
  return false;
}
