import { GatewayError } from './gateway.js';

/** What the page says of a failed call: the server's own message (etcd's words) where there is one. */
export function errorText(failure: unknown): string {
  if (failure instanceof GatewayError) return failure.message;
  if (failure instanceof TypeError) return `the server cannot be reached (${failure.message})`;
  return failure instanceof Error ? failure.message : String(failure);
}
