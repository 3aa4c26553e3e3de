// The cairn binary with etcd 3.5's tracing flags exports its spans over OTLP
// gRPC to a collector: here a small one of the test's own, which records
// every span it is sent. A put through etcdctl (a client that sends no trace
// context) starts a trace at the member, sampled at a rate of a million per
// million; its spans arrive, under the configured service name, once the
// member shuts down (the batch is flushed then).
import { expect } from 'chai';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdctlAvailable, freePort, startCairn } from '../harness/launcher.js';
import { runUntilRefused } from '../harness/refusal.js';

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
}

const protoPath = fileURLToPath(new URL('../../../test/tracing/fixtures/otlp-trace-subset.proto', import.meta.url));

/** A collector on 127.0.0.1 that keeps every span exported to it. */
async function startCollector(port: number): Promise<{ spans: ExportedSpan[]; stop(): void }> {
  const root = new protobuf.Root().loadSync(protoPath, { keepCase: true });
  const request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  const spans: ExportedSpan[] = [];
  const server = new Server();
  server.addService({
    export: {
      path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: Buffer) => value,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (value: Buffer) => value,
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  }, {
    export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      try {
        const decoded = request.toObject(request.decode(call.request), { bytes: String, defaults: true }) as {
          resource_spans: Array<{ resource?: { attributes: Array<{ key: string; value?: { string_value: string } }> }; scope_spans: Array<{ spans: Array<Record<string, string>> }> }>;
        };
        for (const resourceSpans of decoded.resource_spans) {
          const service = resourceSpans.resource?.attributes.find((attribute) => attribute.key === 'service.name')?.value?.string_value ?? '';
          for (const scope of resourceSpans.scope_spans) {
            for (const span of scope.spans) {
              spans.push({ service, traceId: span.trace_id ?? '', spanId: span.span_id ?? '', parentSpanId: span.parent_span_id ?? '', name: span.name ?? '' });
            }
          }
        }
        callback(null, Buffer.alloc(0));
      } catch (error) {
        callback({ code: status.INVALID_ARGUMENT, details: (error as Error).message }, null);
      }
    },
  });
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error) => (error === null ? resolve() : reject(error))));
  return { spans, stop: () => server.forceShutdown() };
}

describe('tracing: the binary exports spans over OTLP (--experimental-enable-distributed-tracing)', function () {
  this.timeout(60_000);

  it('a put through etcdctl reaches the collector as one trace: KV/Put with raft.commit and mvcc.apply, under the service name given', async function () {
    if (!etcdctlAvailable()) this.skip();
    const collectorPort = await freePort();
    const collector = await startCollector(collectorPort);
    const server = await startCairn({
      args: [
        '--experimental-enable-distributed-tracing',
        '--experimental-distributed-tracing-address', `127.0.0.1:${collectorPort}`,
        '--experimental-distributed-tracing-service-name', 'cairn-under-test',
        '--experimental-distributed-tracing-sampling-rate', '1000000',
      ],
    });
    try {
      expect((await etcdctl(server.endpoint, ['put', 'traced', 'yes'])).stdout).to.equal('OK\n');
      expect(await server.stop(), server.output()).to.equal(0);
      const put = collector.spans.find((span) => span.name === 'etcdserverpb.KV/Put');
      expect(put, `spans received: ${collector.spans.map((span) => span.name).join(', ')}`).to.not.equal(undefined);
      expect(put?.service).to.equal('cairn-under-test');
      const children = collector.spans.filter((span) => span.traceId === put?.traceId && span.parentSpanId === put?.spanId).map((span) => span.name).sort();
      expect(children).to.deep.equal(['mvcc.apply', 'raft.commit']);
    } finally {
      await server.destroy();
      collector.stop();
    }
  });

  it('refuses a sampling rate outside 0..1,000,000 in etcd\'s words, exit 1', async () => {
    for (const [rate, sentence] of [['-1', 'tracing sampling rate must be positive'], ['1000001', 'tracing sampling rate must be less than 1000000']] as const) {
      const refusal = await runUntilRefused('cairn', `http://127.0.0.1:${await freePort()}`, () => ['--experimental-distributed-tracing-sampling-rate', rate]);
      expect(refusal.code).to.equal(1);
      expect(refusal.output).to.include(sentence);
    }
  });
});
