// Request streams whose messages are decoded without throwing.
//
// grpc-js (1.14.7) never ends a call whose request stream holds a message
// that fails to decode behind messages still queued: the handler sees no
// error, the client gets no status, and a half-close is ignored — a stream
// (and what the member keeps for it) held open by one bad byte. etcd answers
// the messages before the bad one and ends the stream with INTERNAL. So the
// request decoder of every streamed method here never throws: a message that
// does not decode reaches the handler as an UndecodableRequest, and the
// handler ends the call with undecodableStatus().
import { Metadata, status, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';

/** What a streamed method's handler receives for a message that does not decode. */
export class UndecodableRequest {
  constructor(readonly reason: string) {}
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- method request/response types vary per method
type Definition = Record<string, MethodDefinition<any, any>>;

/** `definition` with the request decoders of `methods` made tolerant (see above). */
export function withTolerantRequestStreams<D extends Definition>(definition: D, methods: ReadonlyArray<keyof D & string>): D {
  const result: Definition = { ...definition };
  for (const method of methods) {
    const original = definition[method];
    if (original === undefined || !original.requestStream) throw new Error(`${method} has no request stream`);
    result[method] = {
      ...original,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return original.requestDeserialize(bytes);
        } catch (error) {
          return new UndecodableRequest((error as Error).message);
        }
      },
    };
  }
  return result as D;
}

/**
 * The status that ends a call whose request stream held a message that does
 * not decode: grpc-js's answer to such a unary request. A bidi handler emits
 * it (`call.emit('error', …)`), a client-streaming one passes it to its callback.
 */
export function undecodableStatus(): Partial<ServiceError> {
  const details = 'Error deserializing request';
  return { code: status.INTERNAL, details, message: details, metadata: new Metadata() };
}
