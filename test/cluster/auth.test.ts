// Auth in a cluster, against cairn and etcd alike: the auth store travels
// through the log (and, to a member that joins late, inside a snapshot), so
// users, roles and the enabled flag hold on every member; a token issued by
// one member works on the others; a restarted member keeps the store.
import { expect } from 'chai';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { AuthClient, KVClient, RangeRequest, type RangeResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { etcdctl } from '../harness/etcdctl.js';
import { etcdAvailable, type ServerKind } from '../harness/launcher.js';
import { must } from '../harness/must.js';
import { eventually, memberAdd } from './membership-etcdctl.js';

/** Snapshots every 20 entries, so a member added after the setup catches up from a snapshot. */
const flags = ['--heartbeat-interval', '100', '--election-timeout', '1000', '--snapshot-count', '20'];
const root = ['--user', 'root:secret'];
const app = ['--user', 'app:app-secret'];
const convergeDeadlineMs = 20_000;

async function run(endpoint: string, args: string[]): Promise<string> {
  const result = await etcdctl(endpoint, args);
  if (result.code !== 0) throw new Error(`etcdctl ${args.join(' ')} at ${endpoint}: ${result.stderr}`);
  return result.stdout;
}

async function refused(endpoint: string, args: string[]): Promise<string> {
  const result = await etcdctl(endpoint, args);
  expect(result.code, `etcdctl ${args.join(' ')} at ${endpoint} must fail`).to.not.equal(0);
  return result.stderr;
}

function authenticate(endpoint: string): Promise<string> {
  const client = new AuthClient(endpoint, credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.authenticate({ name: 'app', password: 'app-secret' }, new Metadata(), { deadline: Date.now() + 5_000 }, (error, response) => {
      client.close();
      if (error !== null) reject(error);
      else resolve(response.token);
    });
  });
}

function rangeWithToken(endpoint: string, key: string, token: string): Promise<RangeResponse> {
  const client = new KVClient(endpoint, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('token', token);
  return new Promise((resolve, reject) => {
    client.range(RangeRequest.fromPartial({ key: Buffer.from(key) }), metadata, { deadline: Date.now() + 5_000 }, (error: ServiceError | null, response) => {
      client.close();
      if (error !== null) reject(error);
      else resolve(response);
    });
  });
}

for (const kind of ['cairn', 'etcd'] as ServerKind[]) {
  describe(`auth in a ${kind} cluster`, function () {
    this.timeout(120_000);
    let cluster: Cluster | undefined;
    const members: ClusterMember[] = [];

    before(async function () {
      if (kind === 'etcd' && !etcdAvailable()) this.skip();
      cluster = await startCluster(kind, { size: 3, args: flags });
      members.push(...cluster.members);
    });
    after(async () => {
      await cluster?.destroy();
    });

    it('a member that joins after the users were made gets them, in a snapshot; enabled, auth holds on every member', async () => {
      const first = must(members[0], 'm1').endpoint;
      for (const args of [
        ['user', 'add', 'root:secret'], ['user', 'grant-role', 'root', 'root'], ['role', 'add', 'app'],
        ['role', 'grant-permission', 'app', 'readwrite', '--prefix', 'app/'], ['user', 'add', 'app:app-secret'], ['user', 'grant-role', 'app', 'app'],
      ]) await run(first, args);
      for (let i = 0; i < 60; i++) await run(first, ['put', `fill/${i}`, 'x']);
      const { peerUrl, peerPort } = await must(cluster, 'the cluster').reservePeerUrl('m4');
      const added = await memberAdd(members.map((member) => member.endpoint), 'm4', peerUrl, false);
      const joined = await must(cluster, 'the cluster').addMember('m4', added.initialCluster, peerPort);
      members.push(joined);
      // cairn logs each snapshot it installs: the store reached m4 inside one, not through the log.
      if (kind === 'cairn') expect(joined.output()).to.include('installed a snapshot');
      await run(first, ['auth', 'enable']);

      for (const member of members) {
        await eventually(convergeDeadlineMs, async () => expect(await refused(member.endpoint, ['get', 'app/x'])).to.include('etcdserver: user name is empty'));
        expect(await run(member.endpoint, [...app, 'put', `app/${member.name}`, member.name])).to.equal('OK\n');
        expect(await refused(member.endpoint, [...app, 'put', 'elsewhere', 'x'])).to.include('etcdserver: permission denied');
        expect(await run(member.endpoint, [...root, 'user', 'list'])).to.equal('app\nroot\n');
      }
      expect(await run(first, [...app, 'get', 'app/', '--prefix', '--keys-only'])).to.equal(members.map((member) => `app/${member.name}\n\n`).join(''));
    });

    it('a token issued by one member is good on every other member', async () => {
      const token = await authenticate(must(members[1], 'm2').endpoint);
      for (const member of members) {
        const response = await eventually(convergeDeadlineMs, () => rangeWithToken(member.endpoint, 'app/m1', token));
        expect(response.kvs.map((kv) => kv.value.toString())).to.deep.equal(['m1']);
      }
    });

    it('a restarted member keeps the auth store', async () => {
      const restarted = must(members[2], 'm3');
      await restarted.stop();
      await restarted.restart({ waitReady: 'none' });
      await eventually(convergeDeadlineMs, async () => expect(await run(restarted.endpoint, [...app, 'get', 'app/m3', '--print-value-only'])).to.equal('m3\n'));
      expect(await refused(restarted.endpoint, ['get', 'app/m3'])).to.include('etcdserver: user name is empty');
      await run(restarted.endpoint, [...root, 'auth', 'disable']);
    });
  });
}
