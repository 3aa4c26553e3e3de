// A gRPC server that does nothing but answer KV.Put with a header: the most a
// server built on that transport can serve on this machine, whatever it does
// per request. Two transports, named on the command line:
// - grpc-js: @grpc/grpc-js's Server, with the options cairn's client port uses;
// - node-http2: node:http2 alone, gRPC's framing and trailers written by hand.
// Usage: node dist/bench/ceiling-responder.js grpc-js|node-http2 PORT
// It prints "listening" once bound and runs until it is killed.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createServer } from 'node:http2';
import { pathToFileURL } from 'node:url';
import { KVService, PutResponse } from '../proto/gen/etcdserverpb/rpc.js';

export const ceilingTransports = ['grpc-js', 'node-http2'] as const;
export type CeilingTransport = (typeof ceilingTransports)[number];

let answered = 0;

function response(): Uint8Array {
  answered++;
  return PutResponse.encode(PutResponse.fromPartial({ header: { clusterId: 1n, memberId: 2n, revision: BigInt(answered), raftTerm: 2n } })).finish();
}

function serveGrpcJs(port: number, listening: () => void): void {
  const server = new Server({ 'grpc.enable_channelz': 0, 'grpc.max_send_message_length': -1 });
  const { put } = KVService;
  server.addService({ put: { ...put, responseSerialize: (value: Uint8Array) => Buffer.from(value) } }, {
    put: (_call: unknown, callback: (error: null, value: Uint8Array) => void) => callback(null, response()),
  });
  server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error) => {
    if (error) throw error;
    listening();
  });
}

function serveNodeHttp2(port: number, listening: () => void): void {
  const server = createServer();
  server.on('stream', (stream) => {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      const body = response();
      const framed = Buffer.alloc(5 + body.length);
      framed.writeUInt32BE(body.length, 1);
      framed.set(body, 5);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(framed);
    });
  });
  server.listen(port, '127.0.0.1', listening);
}

function main(): void {
  const [transport, portText] = process.argv.slice(2);
  const port = Number(portText);
  if (!ceilingTransports.includes(transport as CeilingTransport) || !Number.isInteger(port) || port <= 0) {
    console.error('usage: node dist/bench/ceiling-responder.js grpc-js|node-http2 PORT');
    process.exit(2);
  }
  const listening = (): void => void console.log('listening');
  if (transport === 'grpc-js') serveGrpcJs(port, listening);
  else serveNodeHttp2(port, listening);
}

// transport-ceiling.ts imports the transports' names from here; only a run as a program serves.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
