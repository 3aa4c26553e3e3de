// Retry and failover rules of Connection.unary, against an empty local gRPC
// server (it only has to accept connections) and attempts that fail on purpose.
import { expect } from 'chai';
import { Metadata, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { trace, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { Connection, Idempotency, Service } from './connection.js';
import { TooManyRequestsError, UnavailableError } from './errors.js';
import { freePort } from '../test/harness/launcher.js';

function serviceError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

/** Records span names and statuses; everything else is a no-op. */
function recordingProvider(spans: Array<{ name: string; status?: number; events: string[] }>): TracerProvider {
  const tracer = {
    startActiveSpan(name: string, _options: unknown, run: (span: Span) => unknown) {
      const record: { name: string; status?: number; events: string[] } = { name, events: [] };
      spans.push(record);
      const span = {
        setAttribute: () => span, addEvent: (event: string) => { record.events.push(event); return span; },
        setStatus: (value: { code: number }) => { record.status = value.code; return span; },
        recordException: () => undefined, end: () => undefined,
      } as unknown as Span;
      return run(span);
    },
  } as unknown as Tracer;
  return { getTracer: () => tracer };
}

describe('client connection: retries, failover and spans', () => {
  let server: Server;
  let endpoint: string;
  const spans: Array<{ name: string; status?: number; events: string[] }> = [];

  before(async () => {
    server = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    endpoint = `127.0.0.1:${port}`;
    trace.setGlobalTracerProvider(recordingProvider(spans));
  });
  after(() => {
    trace.disable();
    server.forceShutdown();
  });

  const fast = { retries: 3, minDelayMs: 1, maxDelayMs: 2 };

  it('never re-sends a write after an ambiguous failure, but retries a read', async () => {
    const connection = new Connection({ endpoints: [endpoint], retry: fast });
    try {
      let writes = 0;
      const write = await connection.unary(Service.KV, 'Put', Idempotency.Unsafe, async () => {
        writes++;
        throw serviceError(status.UNAVAILABLE, 'Connection dropped');
      }).catch((error: unknown) => error);
      expect(writes).to.equal(1);
      expect(write).to.be.instanceOf(UnavailableError);
      expect((write as UnavailableError).applied).to.equal('unknown');

      let reads = 0;
      const read = await connection.unary(Service.KV, 'Range', Idempotency.Safe, async () => {
        if (++reads < 3) throw serviceError(status.UNAVAILABLE, 'Connection dropped');
        return 'value';
      });
      expect([read, reads]).to.deep.equal(['value', 3]);
      const span = spans.find((candidate) => candidate.name === 'etcdserverpb.KV/Range');
      expect(span?.events).to.deep.equal(['retry', 'retry']);
      expect(spans.find((candidate) => candidate.name === 'etcdserverpb.KV/Put')?.status).to.equal(2); // ERROR
    } finally {
      connection.close();
    }
  });

  it('retries a write the server refused before proposing it (too many requests)', async () => {
    const connection = new Connection({ endpoints: [endpoint], retry: fast });
    try {
      let writes = 0;
      const result = await connection.unary(Service.KV, 'Put', Idempotency.Unsafe, async () => {
        if (++writes === 1) throw serviceError(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests');
        return 'ok';
      });
      expect([result, writes]).to.deep.equal(['ok', 2]);
      const exhausted = await connection.unary(Service.KV, 'Put', Idempotency.Unsafe, async () => {
        throw serviceError(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests');
      }).catch((error: unknown) => error);
      expect(exhausted).to.be.instanceOf(TooManyRequestsError);
    } finally {
      connection.close();
    }
  });

  it('fails a write over to the next endpoint when the first never became ready (not applied)', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const connection = new Connection({ endpoints: [dead, endpoint], dialTimeoutMs: 300, retry: fast });
    try {
      const seen: string[] = [];
      const result = await connection.unary(Service.KV, 'Put', Idempotency.Unsafe, async (target) => {
        seen.push(target.address);
        return 'ok';
      });
      expect(result).to.equal('ok');
      expect(seen).to.deep.equal([endpoint]);
      expect(connection.current().address).to.equal(endpoint);
    } finally {
      connection.close();
    }
  });
});
