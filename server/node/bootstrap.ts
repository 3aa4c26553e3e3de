// How a member's Raft log starts: from what its WAL holds (a restart), or
// for a new data directory either as a founding member of a new cluster or
// as a member joining an existing one.
//
// A new cluster's log begins with one membership change per founding member
// (entries 1..n, term 1, committed), written identically by every founder,
// as etcd does: a member added later replays them from the leader's log (or
// gets a snapshot that holds their result) and so learns the whole
// membership from the log alone.
import type { Log } from '../log.js';
import type { MembersResponse } from '../../proto/gen/cairnpb/peer.js';
import type { Member } from '../../proto/gen/etcdserverpb/rpc.js';
import { encodeConfChangeContext } from '../membership/membership.js';
import { parseInitialCluster, type InitialMember } from '../membership/initial-cluster.js';
import { clusterIdFor, hexId, raftNodeId } from '../membership/ids.js';
import { MemberIdentity } from '../../proto/gen/cairnpb/internal.js';
import type { Backend } from '../mvcc/backend.js';
import type { ServerConfig } from '../config.js';
import { sleep, type Clock } from '../clock.js';
import {
  ConfChangeType,
  encodeConfChange,
  entryFromPb,
  EntryType,
  hardStateFromPb,
  hardStateToPb,
  MemoryStorage,
  type Entry,
} from '../raft/index.js';
import type { Wal, WalContents } from '../storage/wal.js';
import { snapshotMetadataFromPb } from '../transport/wire.js';
import type { PeerDialer } from '../transport/peer-client.js';

/** The in-memory index of the log the WAL holds (what the Raft core reads). */
export function storageFromWal(contents: WalContents): MemoryStorage {
  const storage = new MemoryStorage();
  if (contents.snapshot?.metadata !== undefined) {
    const metadata = snapshotMetadataFromPb(contents.snapshot.metadata);
    if (metadata.index > 0) storage.applySnapshot({ metadata, data: new Uint8Array(0) });
  }
  storage.append(contents.entries.map(entryFromPb));
  if (contents.hardState !== undefined) storage.setHardState(hardStateFromPb(contents.hardState));
  return storage;
}

const metaIdentity = 'member_identity';

export interface MemberIdentityIds {
  memberId: bigint;
  clusterId: bigint;
}

/**
 * How this member's log starts: from its WAL after a restart; for a new data
 * directory by bootstrapping a new cluster or joining an existing one. The
 * member and cluster IDs are written into the backend once, then read back.
 */
export async function startLog(
  config: ServerConfig,
  wal: Wal,
  contents: WalContents,
  backend: Backend,
  dialer: PeerDialer,
  log: Log,
  clock: Clock,
): Promise<{ storage: MemoryStorage; identity: MemberIdentityIds; bootMembers: Member[] }> {
  if (!walIsEmpty(contents)) return { storage: storageFromWal(contents), identity: loadIdentity(backend), bootMembers: [] };
  const founders = parseInitialCluster(config.initialCluster, config.initialClusterToken);
  let storage: MemoryStorage;
  let identity: MemberIdentityIds;
  /**
   * The members this one knows of before its log has told it the membership:
   * the founders of a new cluster, or those a joining member was told of. It
   * talks to them, and accepts their messages, until then.
   */
  let bootMembers: Member[];
  if (config.initialClusterState === 'new') {
    const self = founders.find((founder) => founder.name === config.name);
    if (self === undefined) throw new Error(`--initial-cluster does not name this member (${config.name})`);
    const advertised = [...config.initialAdvertisePeerUrls].sort().join(',');
    if ([...self.peerUrls].sort().join(',') !== advertised) {
      throw new Error(`--initial-cluster gives ${config.name} the peer URLs ${self.peerUrls.join(',')}, but --initial-advertise-peer-urls is ${config.initialAdvertisePeerUrls.join(',')}`);
    }
    identity = { memberId: self.id, clusterId: clusterIdOf(founders) };
    storage = new MemoryStorage();
    const entries = await bootstrapNewCluster(wal, founders);
    storage.append(entries);
    storage.setHardState({ term: 1, vote: 0, commit: entries.length });
    bootMembers = founders.map(foundingMember);
    log.info(`bootstrapped a new cluster ${hexId(identity.clusterId)} with ${founders.length} member(s); this member is ${hexId(identity.memberId)}`);
  } else {
    const others = founders.filter((founder) => founder.name !== config.name);
    const joined = await joinExistingCluster(others, config.initialAdvertisePeerUrls, dialer, clock);
    identity = { memberId: joined.memberId, clusterId: joined.clusterId };
    bootMembers = joined.members;
    storage = storageFromWal(contents);
    log.info(`joining cluster ${hexId(identity.clusterId)} as member ${hexId(identity.memberId)}`);
  }
  saveIdentity(backend, config.name, identity);
  await backend.sync();
  return { storage, identity, bootMembers };
}

/** Records which member of which cluster the data directory belongs to (read back on every restart). */
export function saveIdentity(backend: Backend, name: string, identity: MemberIdentityIds): void {
  const stored: MemberIdentity = { memberId: identity.memberId, clusterId: identity.clusterId, name };
  backend.transaction(() => backend.putMeta(metaIdentity, Buffer.from(MemberIdentity.encode(stored).finish())));
}

function loadIdentity(backend: Backend): MemberIdentityIds {
  const stored = backend.getMeta(metaIdentity);
  if (stored === undefined) throw new Error('the data directory has a log but no member identity: it was not written by this version of cairn');
  const identity = MemberIdentity.decode(stored);
  return { memberId: identity.memberId, clusterId: identity.clusterId };
}

/** Whether the WAL holds anything (a member that ran before). */
export function walIsEmpty(contents: WalContents): boolean {
  return contents.entries.length === 0 && contents.snapshot === undefined && contents.hardState === undefined;
}

/** Writes a founding member's first entries into an empty WAL; returns them. */
export async function bootstrapNewCluster(wal: Wal, founders: InitialMember[]): Promise<Entry[]> {
  const entries: Entry[] = founders.map((founder, i) => ({
    type: EntryType.ConfChange,
    term: 1,
    index: i + 1,
    data: encodeConfChange({
      type: ConfChangeType.AddNode,
      nodeId: raftNodeId(founder.id),
      context: encodeConfChangeContext({ requestId: 0n, member: foundingMember(founder) }),
    }),
  }));
  const hardState = { term: 1, vote: 0, commit: entries.length };
  wal.append(
    entries.map((entry) => ({ type: entry.type, term: BigInt(entry.term), index: BigInt(entry.index), data: Buffer.from(entry.data) })),
    hardStateToPb(hardState),
  );
  await wal.sync();
  return entries;
}

function foundingMember(founder: InitialMember): Member {
  return { ID: founder.id, name: founder.name, peerURLs: founder.peerUrls, clientURLs: [], isLearner: false };
}

export function clusterIdOf(founders: InitialMember[]): bigint {
  return clusterIdFor(founders.map((founder) => founder.id));
}

/** How long to keep asking the existing members before giving up on joining. */
const joinAttemptsMax = 20;
const joinRetryDelayMs = 500;
/** How long one member is given to answer with the membership. */
const askMembersTimeoutMs = 2_000;

/**
 * A member joining an existing cluster (--initial-cluster-state existing)
 * asks the other members listed in --initial-cluster for the membership,
 * and finds its own ID (the one MemberAdd chose) by its peer URLs.
 */
export async function joinExistingCluster(others: InitialMember[], ownPeerUrls: readonly string[], dialer: PeerDialer, clock: Clock): Promise<{ clusterId: bigint; memberId: bigint; members: Member[] }> {
  const reasons: string[] = [];
  for (let attempt = 0; attempt < joinAttemptsMax; attempt++) {
    for (const other of others) {
      for (const url of other.peerUrls) {
        try {
          const response = await askMembers(dialer, url, clock);
          const self = response.members.find((member) => member.peerURLs.some((peerUrl) => ownPeerUrls.includes(peerUrl)));
          if (self === undefined) throw new Error(`this member's peer URLs ${ownPeerUrls.join(',')} are not in the cluster's member list (run member add first)`);
          return { clusterId: response.clusterId, memberId: self.ID, members: response.members };
        } catch (error) {
          reasons.push(`${url}: ${(error as Error).message}`);
          if ((error as Error).message.includes('member add')) throw error;
        }
      }
    }
    await sleep(clock, joinRetryDelayMs);
  }
  throw new Error(`cannot join the existing cluster: ${reasons.slice(-others.length).join('; ')}`);
}

async function askMembers(dialer: PeerDialer, peerUrl: string, clock: Clock): Promise<MembersResponse> {
  const client = dialer.dial(peerUrl);
  try {
    // gRPC deadlines are wall-clock times.
    return await client.members(clock.wallMs() + askMembersTimeoutMs);
  } finally {
    client.close();
  }
}
