// Adapts an async handler to grpc-js's unary callback style, mapping thrown
// errors through the one error table. The client services (api/) and the
// peer service (transport/) answer through it alike.
import type { Metadata, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { toServiceError } from './errors.js';

/** What grpc-js knows of a call's transport (not exported by name from the package). */
export type AuthContext = ReturnType<ServerUnaryCall<unknown, unknown>['getAuthContext']>;

/** Who made a call: its metadata (the auth token) and its TLS peer (the client certificate). */
export interface CallIdentity {
  readonly metadata: Metadata;
  /** metadata.get(key)[0] as a string, for a text key; cairn's gRPC server reads it without building the metadata. */
  firstMetadataValue?(key: string): string | undefined;
  getAuthContext(): AuthContext;
}

/** The first value of text metadata `key` of `call`, undefined when it has none. */
export function firstMetadataValue(call: Pick<CallIdentity, 'metadata' | 'firstMetadataValue'>, key: string): string | undefined {
  if (call.firstMetadataValue !== undefined) return call.firstMetadataValue(key);
  const value = call.metadata.get(key)[0];
  return value === undefined ? undefined : String(value);
}

/** A call as the handlers see it: whether the client gave up (cancelled it, or its deadline passed), and who it is. */
export interface CallState extends CallIdentity {
  readonly cancelled: boolean;
}

export function unary<Request, Response>(
  handler: (request: Request, call: CallState) => Response | Promise<Response>,
): (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void {
  return (call, callback) => {
    let result: Response | Promise<Response>;
    try {
      result = handler(call.request, call);
    } catch (error) {
      callback(toServiceError(error), null);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error), null),
      );
    } else {
      callback(null, result);
    }
  };
}

/** How a callback-style handler answers: with an error, or with none and the response. The first answer counts. */
export type Respond<Response> = (error: unknown, response?: Response) => void;

/**
 * As unary, for a handler that answers through `respond` instead of a
 * promise: the write path, whose answer then goes out from where the log
 * applied it, without a turn of the loop on the way. A throw before the
 * handler answered is the request's error; anything after the first answer
 * is ignored.
 */
export function unaryWith<Request, Response>(
  handler: (request: Request, call: CallState, respond: Respond<Response>) => void,
): (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void {
  return (call, callback) => {
    let answered = false;
    const respond: Respond<Response> = (error, response) => {
      if (answered) return;
      answered = true;
      if (error === undefined) callback(null, response as Response);
      else callback(toServiceError(error), null);
    };
    try {
      handler(call.request, call, respond);
    } catch (error) {
      respond(error);
    }
  };
}
