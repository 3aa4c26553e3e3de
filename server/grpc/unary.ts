// Adapts an async handler to grpc-js's unary callback style, mapping thrown
// errors through the one error table. The client services (api/) and the
// peer service (transport/) answer through it alike.
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { toServiceError } from './errors.js';

/** Whether the client gave up on the call (cancelled it, or its deadline passed). */
export interface CallState {
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
