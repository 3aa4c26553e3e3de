import { expect } from 'chai';
import { addedMemberIdFor, checkFoundingIds, clusterIdFor, MemberIdError, memberIdFor, raftNodeId, uniqueAddedMemberId } from './ids.js';

// Vectors from real etcd 3.4.23 (Debian), run once by hand on 127.0.0.1 with
// exactly these flags (--initial-cluster-token cairn-vectors for all):
//   solo: --initial-advertise-peer-urls http://127.0.0.1:23800, --initial-cluster solo=http://127.0.0.1:23800
//   duo:  --initial-advertise-peer-urls http://localhost:23811,http://127.0.0.1:23812,
//         --initial-cluster duo=http://localhost:23811,duo=http://127.0.0.1:23812
//   m1..m3: --initial-cluster m1=http://127.0.0.1:23801,m2=http://127.0.0.1:23802,m3=http://127.0.0.1:23803
// IDs read from `etcdctl member list -w json` (members[].ID, header.cluster_id)
// and `etcdctl endpoint status -w json`. The added member is
// `etcdctl member add m4 --peer-urls=http://127.0.0.1:23804` on that 3-member
// cluster; `date +%s` printed 1796613684 before and after the call.
const token = 'cairn-vectors';
const vectors = [
  { name: 'solo', peerUrls: [['http://127.0.0.1:23800']], memberIds: [5630766060656297072n], clusterId: 12211543374409051841n },
  { name: 'duo', peerUrls: [['http://localhost:23811', 'http://127.0.0.1:23812']], memberIds: [16145666518588111445n], clusterId: 9386899357303679103n },
  {
    name: 'm1..m3',
    peerUrls: [['http://127.0.0.1:23801'], ['http://127.0.0.1:23802'], ['http://127.0.0.1:23803']],
    memberIds: [12786400085608293537n, 5926857062454186199n, 5671483290357300190n],
    clusterId: 6829865871680751988n,
  },
] as const;
const added = { peerUrls: ['http://127.0.0.1:23804'], unixSeconds: 1796613684, memberId: 13071886457090543543n };

describe('member and cluster IDs (etcd 3.4.23 vectors)', () => {
  for (const vector of vectors) {
    it(`derives etcd's member and cluster IDs for ${vector.name}`, () => {
      const memberIds = vector.peerUrls.map((urls) => memberIdFor(urls, token));
      expect(memberIds).to.deep.equal(vector.memberIds);
      expect(clusterIdFor(memberIds)).to.equal(vector.clusterId);
    });
  }

  it("derives etcd's ID for a member added at runtime from its peer URLs and the time, without the token", () => {
    expect(addedMemberIdFor(added.peerUrls, added.unixSeconds)).to.equal(added.memberId);
    expect(uniqueAddedMemberId(added.peerUrls, added.unixSeconds * 1000 + 999, [])).to.equal(added.memberId);
  });

  it('sorts and trims peer URLs, and depends on the token', () => {
    const a = memberIdFor(['http://127.0.0.1:2380', 'http://127.0.0.1:2381'], 'token');
    expect(memberIdFor([' http://127.0.0.1:2381', 'http://127.0.0.1:2380 '], 'token')).to.equal(a);
    expect(memberIdFor(['http://127.0.0.1:2380', 'http://127.0.0.1:2381'], 'other token')).to.not.equal(a);
  });

  it('gives a cluster ID that does not depend on the order of the members', () => {
    expect(clusterIdFor([3n, 1n, 2n])).to.equal(clusterIdFor([1n, 2n, 3n]));
    expect(clusterIdFor([1n, 2n])).to.not.equal(clusterIdFor([1n, 2n, 3n]));
  });
});

describe('raftNodeId', () => {
  it('is the ID itself below 2^53 (IDs of existing data dirs) and its low 53 bits above', () => {
    expect(raftNodeId(0x1234n)).to.equal(0x1234);
    expect(raftNodeId(2n ** 53n - 1n)).to.equal(Number.MAX_SAFE_INTEGER);
    expect(raftNodeId(12786400085608293537n)).to.equal(Number(12786400085608293537n & (2n ** 53n - 1n)));
    for (const vector of vectors) for (const id of vector.memberIds) expect(Number.isSafeInteger(raftNodeId(id))).to.equal(true);
  });
});

describe('uniqueAddedMemberId', () => {
  it("moves to the next second when the ID is a present or removed member's", () => {
    const next = addedMemberIdFor(added.peerUrls, added.unixSeconds + 1);
    expect(uniqueAddedMemberId(added.peerUrls, added.unixSeconds * 1000, [added.memberId])).to.equal(next);
  });

  it('moves on when only the Raft node ID is taken', () => {
    const sameNode = added.memberId ^ (1n << 60n);
    expect(uniqueAddedMemberId(added.peerUrls, added.unixSeconds * 1000, [sameNode])).to.not.equal(added.memberId);
  });

  it('gives up with MemberIdError after its bounded attempts', () => {
    const taken = Array.from({ length: 64 }, (_, i) => addedMemberIdFor(added.peerUrls, added.unixSeconds + i));
    expect(() => uniqueAddedMemberId(added.peerUrls, added.unixSeconds * 1000, taken)).to.throw(MemberIdError, 'no free member ID');
  });
});

describe('checkFoundingIds', () => {
  it('accepts distinct IDs and refuses a repeated Raft node ID or 0', () => {
    expect(() => checkFoundingIds([1n, 2n])).to.not.throw();
    expect(() => checkFoundingIds([5n, 5n | (1n << 60n)])).to.throw(MemberIdError, 'of another member');
    expect(() => checkFoundingIds([1n << 60n])).to.throw(MemberIdError, 'Raft node ID is 0');
  });
});
