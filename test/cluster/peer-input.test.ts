// The peer port does not trust its input. A hostile (or broken) peer connects
// to a member's peer port with the generated PeerClient and sends what no
// correct member sends: absurd terms, garbage log entries, messages from
// made-up or mismatched members, local-only message types, oversized batches,
// a snapshot whose checksum is wrong. After each, every member must still
// run, agree on a leader, take a put through a client, and (in a cluster)
// hold the same HashKV. Each case here brought a member down, wedged the
// cluster or made a member diverge before the peer checks existed.
import { raftNodeId } from '../../server/membership/ids.js';
import { assert } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import { InternalRequest } from '../../proto/gen/cairnpb/internal.js';
import { PutRequest } from '../../proto/gen/etcdserverpb/rpc.js';
import { EntryType, type Entry as PbEntry } from '../../proto/gen/raftpb/raft.js';
import { startCluster, type Cluster, type ClusterMember } from '../harness/cluster.js';
import { freePort, startCairn, type ServerHandle } from '../harness/launcher.js';
import { must } from '../harness/must.js';
import { compareHashes, outputTails, putEventually, sleep, status, waitConverged } from './faults-checks.js';
import { announceOversizedMessage, batch, message, MessageType, sendBatches, sendSnapshot } from './hostile-peer.js';

const heartbeatIntervalMs = 100;
const electionTimeoutMs = 1_000;
const timingArgs = ['--heartbeat-interval', String(heartbeatIntervalMs), '--election-timeout', String(electionTimeoutMs)];
/** A member that took the hostile input campaigns within 2 election timeouts of its last heartbeat: wait past that. */
const settleMs = 2 * electionTimeoutMs + 500;
const recoverMsMax = 20_000;
/** The largest term the Raft core can hold (Number.MAX_SAFE_INTEGER): one election later it breaks. */
const termSafeMax = 2n ** 53n - 1n;
/** A term no election reaches, yet one the core could hold: the node, which knows its own term, refuses it. */
const termAbsurd = 2n ** 40n;
/** Hostile messages that should move nothing claim a term this far ahead: no real election adds as much in a test. */
const termJump = 1_000n;
/** More entries than any message of a correct leader carries (its 1 MiB of empty entries is 43,690). */
const entriesOversized = 70_000;
/** A gRPC message this large is announced but never sent. */
const announcedBytes = 1024 * 1024 * 1024;
/** A member that refuses an oversized message says so at once; one that accepts waits for the rest. */
const oversizedAnswerMs = 5_000;
/** A member ID no member has. */
const madeUpId = 0x1234n;

interface Identity {
  memberId: bigint;
  clusterId: bigint;
  term: bigint;
  commit: bigint;
}

async function identityOf(endpoint: string): Promise<Identity> {
  const answer = await status(endpoint, 5_000);
  if (answer.header === undefined) throw new Error(`${endpoint}: Status without a header`);
  return { memberId: answer.header.memberId, clusterId: answer.header.clusterId, term: answer.raftTerm, commit: answer.raftIndex };
}

function peerHost(peerUrl: string): string {
  return new URL(peerUrl).host;
}

function putEntry(index: bigint, term: bigint, key: string): PbEntry {
  const data = Buffer.from(InternalRequest.encode({ id: 1n, auth: undefined, put: PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from('hostile') }) }).finish());
  return { type: EntryType.EntryNormal, index, term, data };
}

describe('peer input: a single cairn member', function () {
  this.timeout(120_000);
  let server: ServerHandle;
  let peerPort: number;
  let self: Identity;

  before(async () => {
    peerPort = await freePort();
    server = await startCairn({ peerPort, args: timingArgs });
    self = await identityOf(server.endpoint);
  });

  after(async () => {
    await server?.destroy();
  });

  async function assertServing(key: string): Promise<void> {
    await sleep(settleMs);
    try {
      await putEventually(server.endpoint, key, 'after', recoverMsMax);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${server.output().slice(-4_000)}`);
    }
    const now = await identityOf(server.endpoint);
    assert.isBelow(Number(now.term - self.term), Number(termJump), `the term moved from ${self.term} to ${now.term}`);
  }

  it('refuses a heartbeat with term 2^53-1 from a made-up member, and keeps serving', async () => {
    const heartbeat = message({ type: MessageType.MsgHeartbeat, from: madeUpId, to: self.memberId, term: termSafeMax });
    const answer = await sendBatches(`127.0.0.1:${peerPort}`, [batch(self.clusterId, madeUpId, [heartbeat])]);
    assert.equal(answer.code, grpcStatus.FAILED_PRECONDITION, answer.details);
    assert.match(answer.details, /not a member/);
    await assertServing('single/made-up');
  });

  it('refuses messages that claim to come from the member itself', async () => {
    const heartbeat = message({ type: MessageType.MsgHeartbeat, from: self.memberId, to: self.memberId, term: termSafeMax });
    const answer = await sendBatches(`127.0.0.1:${peerPort}`, [batch(self.clusterId, self.memberId, [heartbeat])]);
    assert.equal(answer.code, grpcStatus.FAILED_PRECONDITION, answer.details);
    assert.match(answer.details, /this member's own ID/);
    await assertServing('single/self');
  });
});

describe('peer input: a 3-member cairn cluster', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  const ids = new Map<ClusterMember, bigint>();
  let clusterId: bigint;

  before(async function () {
    this.timeout(90_000);
    cluster = await startCluster('cairn', { size: 3, args: timingArgs });
    for (const member of cluster.members) {
      const identity = await identityOf(member.endpoint);
      ids.set(member, identity.memberId);
      clusterId = identity.clusterId;
    }
  });

  after(async () => {
    await cluster?.destroy();
  });

  /** The leader, a follower to attack, the other follower, and the follower's view of the log. */
  async function roles(): Promise<{ leader: ClusterMember; target: ClusterMember; other: ClusterMember; seen: Identity }> {
    const { leader } = await waitConverged(cluster, recoverMsMax);
    const followers = cluster.members.filter((member) => member !== leader);
    const target = must(followers[0], 'a follower to attack');
    const other = must(followers[1], 'the other follower');
    return { leader, target, other, seen: await identityOf(target.endpoint) };
  }

  const id = (member: ClusterMember): bigint => ids.get(member)!;
  /** The number the Raft core (and so a message's from and to) knows a member by: the low 53 bits of its ID. */
  const node = (member: ClusterMember): bigint => BigInt(raftNodeId(id(member)));

  /** The member logged why it refused something (the first of each kind is logged at once). */
  function assertLogged(member: ClusterMember, pattern: RegExp): void {
    assert.match(member.output(), pattern, `${member.name} logged no line like ${pattern}`);
  }

  /** Every member runs, a put through `via` succeeds, all converge with equal HashKV, and the term did not jump. */
  async function assertHealthy(via: ClusterMember, termBefore: bigint, key: string): Promise<void> {
    await sleep(settleMs);
    const exited = cluster.members.filter((member) => !member.running());
    assert.isEmpty(exited.map((member) => member.name), `members exited:\n${outputTails(cluster)}`);
    try {
      await putEventually(via.endpoint, key, 'after', recoverMsMax);
      const converged = await waitConverged(cluster, recoverMsMax);
      for (const answer of converged.statuses) {
        assert.isBelow(Number(answer.raftTerm - termBefore), Number(termJump), `the term moved from ${termBefore} to ${answer.raftTerm}`);
      }
      assert.deepEqual(await compareHashes(cluster, converged.revision), []);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${outputTails(cluster)}`);
    }
  }

  it('drops heartbeats with absurd terms (2^53-1, 2^40), even from a real member', async () => {
    const { leader, target, seen } = await roles();
    const heartbeats = [termSafeMax, termAbsurd].map((term) => message({ type: MessageType.MsgHeartbeat, from: node(leader), to: node(target), term }));
    await sendBatches(peerHost(target.peerUrl), [batch(clusterId, id(leader), heartbeats)]);
    await assertHealthy(target, seen.term, 'cluster/term');
    assertLogged(target, /dropped MsgHeartbeat from \w+: term 9007199254740991 is beyond/);
    assertLogged(target, /dropped MsgHeartbeat from \w+: term 1099511627776 is absurd/);
  });

  it('drops a whole append that carries a garbage entry, before it reaches the log', async () => {
    const { leader, target, seen } = await roles();
    const garbage: PbEntry = { type: EntryType.EntryNormal, index: seen.commit + 2n, term: seen.term, data: Buffer.from([0xff, 0xff, 0xff, 0xff]) };
    const append = message({
      type: MessageType.MsgApp, from: node(leader), to: node(target), term: seen.term, logTerm: seen.term, index: seen.commit,
      commit: seen.commit + 2n, entries: [putEntry(seen.commit + 1n, seen.term, 'hostile/append'), garbage],
    });
    // Decodes as an InternalRequest, but asks for nothing: applying it is impossible too.
    const empty: PbEntry = { type: EntryType.EntryNormal, index: seen.commit + 1n, term: seen.term, data: Buffer.from(InternalRequest.encode({ id: 7n, auth: undefined }).finish()) };
    const emptyAppend = message({ type: MessageType.MsgApp, from: node(leader), to: node(target), term: seen.term, logTerm: seen.term, index: seen.commit, commit: seen.commit + 1n, entries: [empty] });
    await sendBatches(peerHost(target.peerUrl), [batch(clusterId, id(leader), [append, emptyAppend])]);
    await assertHealthy(target, seen.term, 'cluster/garbage');
    assertLogged(target, /dropped MsgApp from \w+: entry 2 of 2 is refused: not an InternalRequest/);
  });

  it('refuses the stream of a made-up member', async () => {
    const { target, seen } = await roles();
    const heartbeat = message({ type: MessageType.MsgHeartbeat, from: madeUpId, to: node(target), term: seen.term + termJump });
    const answer = await sendBatches(peerHost(target.peerUrl), [batch(clusterId, madeUpId, [heartbeat])]);
    assert.equal(answer.code, grpcStatus.FAILED_PRECONDITION, answer.details);
    assert.match(answer.details, /not a member/);
    await assertHealthy(target, seen.term, 'cluster/made-up');
    assertLogged(target, /refused a stream from 1234: 1234 is not a member/);
  });

  it('drops messages whose sender is not the batch\'s sender', async () => {
    const { leader, target, other, seen } = await roles();
    const heartbeat = message({ type: MessageType.MsgHeartbeat, from: node(leader), to: node(target), term: seen.term + termJump });
    await sendBatches(peerHost(target.peerUrl), [batch(clusterId, id(other), [heartbeat])]);
    await assertHealthy(target, seen.term, 'cluster/claimed-from');
    assertLogged(target, /dropped MsgHeartbeat from \w+: it claims to come from/);
  });

  it('drops messages addressed to another member', async () => {
    const { leader, target, other, seen } = await roles();
    const heartbeat = message({ type: MessageType.MsgHeartbeat, from: node(leader), to: node(other), term: seen.term + termJump });
    await sendBatches(peerHost(target.peerUrl), [batch(clusterId, id(leader), [heartbeat])]);
    await assertHealthy(target, seen.term, 'cluster/wrong-to');
    assertLogged(target, /dropped MsgHeartbeat from \w+: it is addressed to \w+, not to this member/);
  });

  it('drops local-only message types, and a MsgSnap on the message stream (whose data would name a file to install)', async () => {
    const { leader, target, seen } = await roles();
    const dir = mkdtempSync(join(tmpdir(), 'hostile-snapshot-'));
    const path = join(dir, 'data.mdb');
    writeFileSync(path, randomBytes(64 * 1024));
    try {
      const local = [MessageType.MsgHup, MessageType.MsgBeat, MessageType.MsgCheckQuorum, MessageType.MsgUnreachable, MessageType.MsgSnapStatus]
        .map((type) => message({ type, from: node(leader), to: node(target), term: seen.term }));
      const snap = message({
        type: MessageType.MsgSnap, from: node(leader), to: node(target), term: seen.term,
        snapshot: { data: Buffer.from(path), metadata: { index: seen.commit + termJump, term: seen.term, confState: { voters: [...ids.keys()].map(node), learners: [] } } },
      });
      await sendBatches(peerHost(target.peerUrl), [batch(clusterId, id(leader), [...local, snap])]);
      await assertHealthy(target, seen.term, 'cluster/local');
      assert.isTrue(existsSync(path), 'the file the MsgSnap named was taken');
      assertLogged(target, /dropped MsgUnreachable from \w+: MsgUnreachable may not come from a peer/);
      assertLogged(target, /dropped MsgSnap from \w+: MsgSnap may not come from a peer/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops an append with more entries than any leader sends, and refuses an oversized gRPC message at once', async () => {
    const { leader, target, seen } = await roles();
    const entries = Array.from({ length: entriesOversized }, (_, i): PbEntry => ({ type: EntryType.EntryNormal, index: seen.commit + 1n + BigInt(i), term: seen.term, data: Buffer.alloc(0) }));
    const append = message({
      type: MessageType.MsgApp, from: node(leader), to: node(target), term: seen.term, logTerm: seen.term, index: seen.commit,
      commit: seen.commit + BigInt(entriesOversized), entries,
    });
    await sendBatches(peerHost(target.peerUrl), [batch(clusterId, id(leader), [append])]);
    const refusedWith = await announceOversizedMessage(peerHost(target.peerUrl), announcedBytes, oversizedAnswerMs);
    assert.equal(refusedWith, grpcStatus.RESOURCE_EXHAUSTED);
    await assertHealthy(target, seen.term, 'cluster/oversized');
    assertLogged(target, new RegExp(`dropped MsgApp from \\w+: ${entriesOversized} entries, more than`));
  });

  it('refuses a snapshot whose checksum does not match, and removes what it received', async () => {
    const { leader, target, seen } = await roles();
    const image = randomBytes(128 * 1024);
    const snap = message({
      type: MessageType.MsgSnap, from: node(leader), to: node(target), term: seen.term,
      snapshot: { data: Buffer.alloc(0), metadata: { index: seen.commit + termJump, term: seen.term, confState: { voters: [...ids.keys()].map(node), learners: [] } } },
    });
    const wrongSha256 = createHash('sha256').update(image).update('tampered').digest();
    const answer = await sendSnapshot(peerHost(target.peerUrl), [
      { clusterId, message: snap, data: Buffer.alloc(0), totalBytes: 0n, last: false, sha256: Buffer.alloc(0) },
      { clusterId, message: undefined, data: image, totalBytes: 0n, last: false, sha256: Buffer.alloc(0) },
      { clusterId, message: undefined, data: Buffer.alloc(0), totalBytes: BigInt(image.length), last: true, sha256: wrongSha256 },
    ]);
    assert.equal(answer.code, grpcStatus.DATA_LOSS, answer.details);
    const snapDir = join(target.dataDir, 'member', 'snap');
    assert.deepEqual(readdirSync(snapDir).filter((name) => name.startsWith('incoming-')), []);
    await assertHealthy(target, seen.term, 'cluster/checksum');
    assertLogged(target, /refused a snapshot from \w+: snapshot checksum mismatch/);
  });
});
