// Service definitions whose responses are encoded with the shared writer
// (server/codec.ts) instead of a fresh writer per response, and framed for
// gRPC straight from the writer's bytes by cairn's server (one copy into the
// frame, no buffer of their own in between).
import type { MethodDefinition } from '@grpc/grpc-js';
import { encodeMessage, lendEncoded, type MessageEncoder } from '../codec.js';
import { frameLent } from '../grpc/serving/framing.js';
import type { ResponseFraming } from '../grpc/serving/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- method request/response types vary per method
type Definition = Record<string, MethodDefinition<any, any>>;

export function withSharedResponseEncoding<D extends Definition>(definition: D, responses: { [M in keyof D]: MessageEncoder<never> }): D {
  const result: Record<string, Definition[string] & ResponseFraming> = {};
  for (const [method, methodDefinition] of Object.entries(definition)) {
    const type = responses[method] as MessageEncoder<unknown>;
    result[method] = {
      ...methodDefinition,
      responseSerialize: (value: unknown) => encodeMessage(type, value),
      responseFrames: (values: readonly unknown[]) => {
        const { bytes, ends } = lendEncoded(type, values);
        return frameLent(bytes, ends);
      },
    };
  }
  return result as D;
}
