// Membership through the SDK against cairn and etcd: a learner added,
// listed, its peer URLs updated, refused promotion while behind, removed;
// etcd's errors as typed classes; and a learner that joins for real and is
// promoted to a voter once it has caught up.
import { expect } from 'chai';
import {
  connect,
  LearnerNotReadyError,
  MemberBadUrlsError,
  MemberNotFoundError,
  MemberNotLearnerError,
  PeerUrlExistsError,
  TooManyLearnersError,
  type Client,
} from '../../client/index.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { freePort, type ServerHandle } from '../harness/launcher.js';
import { must } from '../harness/must.js';
import { rejection, selectedTargets, sleep } from './support.js';

const promoteDeadlineMs = 15_000;
const unknownId = 0x1234n;

for (const target of selectedTargets()) {
  describe(`sdk cluster membership against ${target.kind}`, function () {
    let server: ServerHandle;
    let client: Client;

    before(async function () {
      if (!target.available()) return this.skip();
      server = await target.start();
      client = await connect({ endpoints: [server.endpoint] });
    });
    after(async () => {
      client?.close();
      await server?.destroy();
    });

    it('adds a learner, lists it, updates its peer URLs, refuses to promote it while it is behind, and removes it', async () => {
      const { members: [voter] } = await client.cluster.memberList();
      const voterId = must(voter, 'the first member').id;
      const voterPeerUrl = must(voter?.peerUrls[0], 'the first member\'s peer URL');
      const peerUrl = `http://127.0.0.1:${await freePort()}`;
      const added = await client.cluster.memberAdd([peerUrl], { learner: true });
      expect(added.member).to.deep.include({ name: '', peerUrls: [peerUrl], clientUrls: [], isLearner: true });
      expect(added.members.map((member) => member.id)).to.include(added.member.id);
      expect((await client.cluster.memberList()).members).to.have.length(2);

      expect(await rejection(client.cluster.memberAdd([`http://127.0.0.1:${await freePort()}`], { learner: true }))).to.be.instanceOf(TooManyLearnersError);
      // (etcd derives a new member's ID from its peer URLs and the time in seconds: adding the learner's URL
      // again within the second is refused as "member ID already exist"; cairn's IDs never repeat.)
      expect(await rejection(client.cluster.memberAdd([voterPeerUrl]))).to.be.instanceOf(PeerUrlExistsError);
      expect(await rejection(client.cluster.memberAdd(['not a url']))).to.be.instanceOf(MemberBadUrlsError);
      expect(await rejection(client.cluster.memberPromote(added.member.id))).to.be.instanceOf(LearnerNotReadyError);
      expect(await rejection(client.cluster.memberPromote(voterId))).to.be.instanceOf(MemberNotLearnerError);

      const movedUrl = `http://127.0.0.1:${await freePort()}`;
      const updated = await client.cluster.memberUpdate(added.member.id, [movedUrl]);
      expect(updated.members.find((member) => member.id === added.member.id)?.peerUrls).to.deep.equal([movedUrl]);

      const removed = await client.cluster.memberRemove(added.member.id);
      expect(removed.members.map((member) => member.id)).to.deep.equal([voterId]);
      // One after another: etcd 3.4 leaves a membership change proposed while another is pending unanswered.
      expect(await rejection(client.cluster.memberRemove(unknownId))).to.be.instanceOf(MemberNotFoundError);
      expect(await rejection(client.cluster.memberUpdate(unknownId, [movedUrl]))).to.be.instanceOf(MemberNotFoundError);
      expect(await rejection(client.cluster.memberPromote(unknownId))).to.be.instanceOf(MemberNotFoundError);
    });

    it('promotes a learner that joined and caught up', async () => {
      const cluster: Cluster = await startCluster(target.kind, { size: 1 });
      const local = await connect({ endpoints: cluster.endpoints() });
      try {
        const { peerUrl, peerPort } = await cluster.reservePeerUrl('m2');
        const added = await local.cluster.memberAdd([peerUrl], { learner: true });
        const initialCluster = [...cluster.members.map((member) => `${member.name}=${member.peerUrl}`), `m2=${peerUrl}`].join(',');
        // A learner answers no linearizable read, which addMember waits for: it resolves once m2 is a voter.
        const joining = cluster.addMember('m2', initialCluster, peerPort);
        const deadline = Date.now() + promoteDeadlineMs;
        for (;;) {
          const outcome = await local.cluster.memberPromote(added.member.id).catch((error: unknown) => error);
          if (!(outcome instanceof LearnerNotReadyError)) {
            if (outcome instanceof Error) throw outcome;
            break;
          }
          if (Date.now() > deadline) throw new Error(`m2 was not promoted within ${promoteDeadlineMs} ms`);
          await sleep(200);
        }
        await joining;
        const { members } = await local.cluster.memberList();
        expect(members.map((member) => [member.name, member.isLearner]).sort()).to.deep.equal([['m1', false], ['m2', false]]);
      } finally {
        local.close();
        await cluster.destroy();
      }
    });
  });
}
