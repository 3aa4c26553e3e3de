// The in-memory Raft log between recorded snapshots (server/node/snapshots.ts):
// members let applied entries go once more than two catch-up tails (5,000
// entries each) are behind them, but a leader keeps what its slowest follower
// still needs. On a 3-member cluster with --snapshot-count above that:
//  1. a follower down for 12,000 puts catches up from the leader's log (no
//     snapshot), since the leader kept everything after its match;
//  2. a follower down while the leadership moves to a member that trimmed its
//     log as a follower is sent the backend image, installs it, and ends with
//     the same keys and HashKV as the others.
import { assert, expect } from 'chai';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { KVClient, PutRequest, type PutResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { compareHashes, outputTails, readPrefixOn, waitConverged } from './faults-checks.js';

const snapshotCount = 50_000;
const putsWhileDown = 12_000;
const putsInFlight = 64;
const putTimeoutMs = 10_000;
const convergeDeadlineMs = 60_000;

/** Puts keys `${prefix}${n}` for n in [from, to) through `endpoint`, `putsInFlight` at a time. */
async function putRange(endpoint: string, prefix: string, from: number, to: number): Promise<void> {
  const client = new KVClient(endpoint, credentials.createInsecure());
  try {
    let next = from;
    const loop = async () => {
      while (next < to) {
        const key = Buffer.from(`${prefix}${String(next++).padStart(6, '0')}`);
        await new Promise<PutResponse>((resolve, reject) => client.put(PutRequest.fromPartial({ key, value: Buffer.alloc(100, 'v') }), new Metadata(), { deadline: Date.now() + putTimeoutMs }, (error: ServiceError | null, response: PutResponse) => (error === null ? resolve(response) : reject(error))));
      }
    };
    await Promise.all(Array.from({ length: putsInFlight }, loop));
  } finally {
    client.close();
  }
}

function installedSnapshot(member: ClusterMember, since: number): boolean {
  return member.output().slice(since).includes('installed a snapshot');
}

async function expectKeys(cluster: Cluster, prefix: string, count: number): Promise<void> {
  const converged = await waitConverged(cluster, convergeDeadlineMs);
  for (const member of cluster.members) {
    const read = await readPrefixOn(member.endpoint, prefix, true);
    expect(read.kvs.length, `keys under ${prefix} on ${member.name}`).to.equal(count);
  }
  expect(await compareHashes(cluster, converged.revision)).to.deep.equal([]);
}

describe('cluster: applied entries leave the in-memory log between snapshots', function () {
  this.timeout(240_000);
  let cluster: Cluster | undefined;

  beforeEach(async () => {
    cluster = await startCluster('cairn', { size: 3, args: ['--snapshot-count', String(snapshotCount)] });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && cluster !== undefined) console.log(outputTails(cluster));
    await cluster?.destroy();
    cluster = undefined;
  });

  it(`a follower down for ${putsWhileDown} puts catches up from the leader's log, not a snapshot`, async () => {
    const running = cluster as Cluster;
    const leader = await running.leader();
    await putRange(leader.endpoint, 'trim/', 0, putsWhileDown); // every member trims behind it
    const follower = running.members.find((member) => member !== leader) as ClusterMember;
    await follower.kill9();
    await putRange(leader.endpoint, 'trim/', putsWhileDown, 2 * putsWhileDown);
    const outputBefore = follower.output().length;
    await follower.restart();
    await expectKeys(running, 'trim/', 2 * putsWhileDown);
    assert.isFalse(installedSnapshot(follower, outputBefore), `${follower.name} installed a snapshot though the leader kept the entries it needed`);
  });

  it('a follower behind a new leader that trimmed its log is sent a snapshot and ends equal', async () => {
    const running = cluster as Cluster;
    const leader = await running.leader();
    const [behind, heir] = running.members.filter((member) => member !== leader) as [ClusterMember, ClusterMember];
    await behind.kill9();
    await putRange(leader.endpoint, 'moved/', 0, putsWhileDown); // the heir, a follower, trims
    await leader.kill9();
    const outputBefore = behind.output().length;
    await behind.restart({ waitReady: 'none' });
    const elected = await running.leader(convergeDeadlineMs, [behind, heir]);
    expect(elected).to.equal(heir, 'only the heir holds every committed entry');
    await leader.restart();
    await expectKeys(running, 'moved/', putsWhileDown);
    assert.isTrue(installedSnapshot(behind, outputBefore), `${behind.name} caught up without the snapshot its new leader had to send`);
  });
});
