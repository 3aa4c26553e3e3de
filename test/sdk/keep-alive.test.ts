// Keep-alives of many leases on one LeaseKeepAlive stream, against cairn and
// etcd: counted on the client (an interceptor) and on the server (its
// grpc_server_started_total / grpc_server_handled_total for LeaseKeepAlive);
// a lease revoked ends its own keep-alive and no other; the stream closes
// after the last subscriber leaves.
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import { connect, LeaseLostError, LeaseLostReason, type Client } from '../../client/index.js';
import type { ServerHandle } from '../harness/launcher.js';
import { must } from '../harness/must.js';
import { scrape } from '../harness/prometheus.js';
import { CallRecorder, eventually, selectedTargets, sleep } from './support.js';

const leaseCount = 5;
const keepAlivePath = '/etcdserverpb.Lease/LeaseKeepAlive';
const keepAliveLabels = { grpc_service: 'etcdserverpb.Lease', grpc_method: 'LeaseKeepAlive' };

for (const target of selectedTargets()) {
  describe(`sdk keep-alive stream against ${target.kind}`, function () {
    let server: ServerHandle;
    let client: Client;
    const recorder = new CallRecorder();

    before(async function () {
      if (!target.available()) return this.skip();
      server = await target.start();
      client = await connect({ endpoints: [server.endpoint], interceptors: [recorder.interceptor] });
    });
    after(async () => {
      client?.close();
      await server?.destroy();
    });

    const serverCount = async (name: string) => {
      const families = await scrape(`http://${server.endpoint}`);
      const matching = families.get(name)?.samples.filter((sample) =>
        Object.entries(keepAliveLabels).every(([label, value]) => sample.labels[label] === value)) ?? [];
      return matching.reduce((sum, sample) => sum + sample.value, 0);
    };

    it(`keeps ${leaseCount} leases alive on one stream; revoking one ends its keep-alive only; the stream closes after the last`, async () => {
      const startedBefore = await serverCount('grpc_server_started_total');
      const handledBefore = await serverCount('grpc_server_handled_total');
      const leases = await Promise.all(Array.from({ length: leaseCount }, () => client.leases.grant(2)));
      await Promise.all(leases.map((lease, index) => client.put(`ka/${index}`, 'x', { lease: lease.id })));
      const renewals = leases.map(() => 0);
      const failures: unknown[] = leases.map(() => undefined);
      const subscriptions: Subscription[] = leases.map((lease, index) => client.leases.keepAlive$(lease.id).subscribe({
        next: () => (renewals[index] = (renewals[index] ?? 0) + 1),
        error: (error: unknown) => (failures[index] = error),
      }));
      await eventually(() => renewals.every((count) => count > 0), 5_000, 'a first keep-alive of every lease');
      expect(recorder.count(keepAlivePath)).to.equal(1);
      expect(await serverCount('grpc_server_started_total') - startedBefore).to.equal(1);

      await client.leases.revoke(must(leases[0], 'the first lease').id);
      await eventually(() => failures[0] !== undefined, 5_000, 'the revoked lease to be reported lost');
      expect(failures[0]).to.be.instanceOf(LeaseLostError);
      expect((failures[0] as LeaseLostError).reason).to.equal(LeaseLostReason.NotFound);
      const renewedAtRevoke = [...renewals];
      // Past the TTL: the others were renewed meanwhile, on the same stream, and their keys remain.
      await sleep(2_500);
      for (let index = 1; index < leaseCount; index++) {
        expect(renewals[index], `lease ${index}`).to.be.greaterThan(must(renewedAtRevoke[index], `renewals of lease ${index}`));
        expect(failures[index], `lease ${index}`).to.equal(undefined);
        expect(await client.get(`ka/${index}`), `key of lease ${index}`).to.not.equal(undefined);
      }
      expect(await client.get('ka/0')).to.equal(undefined);
      expect(recorder.count(keepAlivePath)).to.equal(1);
      expect(await serverCount('grpc_server_started_total') - startedBefore).to.equal(1);

      for (const subscription of subscriptions) subscription.unsubscribe();
      await eventually(async () => await serverCount('grpc_server_handled_total') - handledBefore === 1, 5_000, 'the server to see the stream end');
      await Promise.all(leases.slice(1).map((lease) => client.leases.revoke(lease.id)));
    });
  });
}

