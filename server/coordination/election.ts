// Leader election as etcd's server-side election service runs it, with the
// concurrency package's key layout: candidates queue as <name>/<lease hex>
// keys by create revision; the first is leader. A LeaderKey (name, key,
// create revision, lease) names one candidacy: proclaim and resign act only
// while that key still has that create revision.
import type { ResponseHeader } from '../../proto/gen/etcdserverpb/rpc.js';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import type { LeaderKey } from '../../proto/gen/v3electionpb/v3election.js';
import { Coordination, prefixEnd, type Cancellation } from './coordination.js';
import { ElectionNoLeaderError, ElectionNotLeaderError } from './errors.js';

/** The leader's key and value, and the header of the revision it was read at. */
export interface Leadership {
  header: ResponseHeader;
  kv: KeyValue;
}

/**
 * Runs for leader of election `name` with `value`, for `lease` (0: a fresh
 * session lease of 60 s), and resolves once elected. A candidate already
 * queued with another value proclaims the new one. A cancelled wait
 * withdraws the candidacy and throws WaitCancelledError. As etcd, the header
 * is that of the txn that queued the candidate, not of the wait.
 */
export async function campaign(coordination: Coordination, name: Buffer, value: Buffer, lease: bigint, cancellation: Cancellation): Promise<{ header: ResponseHeader; leader: LeaderKey }> {
  const candidate = lease !== 0n ? lease : await coordination.grantSessionLease();
  const prefix = `${name.toString('latin1')}/`;
  const key = Coordination.queueKey(prefix, candidate);
  const queued = await coordination.enqueue(key, value, candidate);
  const leader: LeaderKey = { name, key: Buffer.from(key, 'latin1'), rev: BigInt(queued.createRevision), lease: candidate };
  if (queued.kv !== undefined && !queued.kv.value.equals(value)) {
    // Already a candidate with another value: proclaim the new one.
    await coordination.ifCreated(key, leader.rev, { requestPut: { key: leader.key, value, lease: candidate, prevKv: false, ignoreValue: false, ignoreLease: false } });
  }
  try {
    await coordination.waitPredecessors(prefix, queued.createRevision, cancellation);
    return { header: queued.header, leader };
  } catch (error) {
    await coordination.ifCreated(key, leader.rev, { requestDeleteRange: { key: leader.key, rangeEnd: Buffer.alloc(0), prevKv: false } }).catch(() => undefined);
    throw error;
  }
}

/** Sets the value of `leader`'s key; throws ElectionNotLeaderError once that candidacy is gone. */
export async function proclaim(coordination: Coordination, leader: LeaderKey, value: Buffer): Promise<ResponseHeader> {
  const put = { requestPut: { key: leader.key, value, lease: leader.lease, prevKv: false, ignoreValue: false, ignoreLease: false } };
  const { succeeded, header } = await coordination.ifCreated(leader.key.toString('latin1'), leader.rev, put);
  if (!succeeded) throw new ElectionNotLeaderError();
  return header;
}

/** The current leader of election `name`; throws ElectionNoLeaderError when it has none. */
export function currentLeader(coordination: Coordination, name: Buffer): Leadership {
  const { kv, header } = coordination.first(`${name.toString('latin1')}/`);
  if (kv === undefined) throw new ElectionNoLeaderError();
  return { header, kv };
}

/** Gives up `leader`'s candidacy (deletes its key while it is that candidacy's); a candidacy already gone is no error. */
export async function resign(coordination: Coordination, leader: LeaderKey): Promise<ResponseHeader> {
  const del = { requestDeleteRange: { key: leader.key, rangeEnd: Buffer.alloc(0), prevKv: false } };
  return (await coordination.ifCreated(leader.key.toString('latin1'), leader.rev, del)).header;
}

/**
 * Streams the leader of election `name` and every change of it, as etcd's
 * Election.Observe: the current leader (or the first one to appear), then
 * each new value it proclaims, until its key is deleted; then the next
 * leader. Runs until cancelled.
 */
export async function observe(coordination: Coordination, name: Buffer, cancellation: Cancellation, send: (leadership: Leadership) => void): Promise<void> {
  const prefix = `${name.toString('latin1')}/`;
  while (!cancellation.cancelled) {
    const first = coordination.first(prefix);
    let leader: KeyValue | undefined = first.kv;
    let header = first.header;
    if (leader === undefined) {
      const range = { start: prefix, end: prefixEnd(Buffer.from(prefix, 'latin1')).toString('latin1') };
      await coordination.watchUntil(range, Number(header.revision) + 1, cancellation, (event) => {
        if (event.type !== 'put') return false;
        leader = event.kv;
        header = { ...header, revision: event.kv.modRevision };
        return true;
      });
    }
    const current = leader as KeyValue | undefined;
    if (current === undefined) return;
    send({ header, kv: current });
    await coordination.watchUntil(
      { start: current.key.toString('latin1') },
      Number(header.revision) + 1,
      cancellation,
      (event) => event.type === 'delete',
      (event) => {
        if (event.type === 'put') send({ header: { ...header, revision: event.kv.modRevision }, kv: event.kv });
      },
    );
  }
}
