// Service definitions whose responses are encoded with the shared writer
// (server/codec.ts) instead of a fresh writer per response.
import type { MethodDefinition } from '@grpc/grpc-js';
import { encodeMessage, type MessageEncoder } from '../codec.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- method request/response types vary per method
type Definition = Record<string, MethodDefinition<any, any>>;

export function withSharedResponseEncoding<D extends Definition>(definition: D, responses: { [M in keyof D]: MessageEncoder<never> }): D {
  const result: Definition = {};
  for (const [method, methodDefinition] of Object.entries(definition)) {
    const type = responses[method] as MessageEncoder<unknown>;
    result[method] = { ...methodDefinition, responseSerialize: (value: unknown) => encodeMessage(type, value) };
  }
  return result as D;
}
