// The standard gRPC health service (grpc.health.v1.Health), side by side:
// etcd 3.4 registers it with the empty service name SERVING; so does cairn.
// Checked with a client built from the health proto the grpc-health-check
// package ships, as a load balancer or Kubernetes' gRPC probe would ask.
import { expect } from 'chai';
import { credentials, loadPackageDefinition, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';
import type { ServerHandle } from '../harness/launcher.js';
import { compatPair } from './pair.js';

interface HealthResponse {
  status: string;
}

type HealthClient = Client & {
  check(request: { service: string }, metadata: Metadata, options: { deadline: number }, done: (error: ServiceError | null, response: HealthResponse) => void): void;
  watch(request: { service: string }): NodeJS.EventEmitter & { cancel(): void };
};

const definition = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as { grpc: { health: { v1: { Health: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient } } } };

function healthClient(server: ServerHandle): HealthClient {
  return new definition.grpc.health.v1.Health(server.endpoint, credentials.createInsecure());
}

function check(server: ServerHandle, service: string): Promise<string | { code: number }> {
  const client = healthClient(server);
  return new Promise<string | { code: number }>((resolve) => {
    client.check({ service }, new Metadata(), { deadline: Date.now() + 5_000 }, (error, response) => resolve(error === null ? response.status : { code: error.code }));
  }).finally(() => client.close());
}

function firstWatched(server: ServerHandle): Promise<string> {
  const client = healthClient(server);
  const stream = client.watch({ service: '' });
  return new Promise<string>((resolve, reject) => {
    stream.on('data', (response: HealthResponse) => resolve(response.status));
    stream.on('error', reject);
  }).finally(() => {
    stream.cancel();
    client.close();
  });
}

describe('compat: grpc.health.v1.Health', function () {
  const pair = compatPair();

  it('both answer SERVING for the empty service name, to Check and to Watch', async () => {
    expect(await Promise.all([check(pair.etcd, ''), check(pair.cairn, '')])).to.deep.equal(['SERVING', 'SERVING']);
    expect(await Promise.all([firstWatched(pair.etcd), firstWatched(pair.cairn)])).to.deep.equal(['SERVING', 'SERVING']);
  });

  it('both answer NOT_FOUND for a service name they do not report on', async () => {
    expect(await Promise.all([check(pair.etcd, 'etcdserverpb.KV'), check(pair.cairn, 'etcdserverpb.KV')])).to.deep.equal([{ code: status.NOT_FOUND }, { code: status.NOT_FOUND }]);
  });
});
