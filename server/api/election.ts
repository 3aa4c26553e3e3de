// v3electionpb.Election: leader election as etcd's server-side election
// service runs it, with the concurrency package's key layout: candidates
// queue as <name>/<lease hex> keys by create revision; the first is leader.
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type {
  CampaignRequest,
  CampaignResponse,
  ElectionServer,
  LeaderKey,
  LeaderRequest,
  LeaderResponse,
  ProclaimRequest,
  ProclaimResponse,
  ResignRequest,
  ResignResponse,
} from '../../proto/gen/v3electionpb/v3election.js';
import type { KeyValue } from '../../proto/gen/mvccpb/kv.js';
import { callCancellation, Coordination, prefixEnd, type Cancellation } from './concurrency.js';
import { ElectionNotLeaderError, ElectionNoLeaderError, MissingLeaderKeyError } from './coordination-errors.js';
import { respond } from './lock.js';

export function electionService(coordination: Coordination): ElectionServer {
  return {
    campaign: (call: ServerUnaryCall<CampaignRequest, CampaignResponse>, callback: sendUnaryData<CampaignResponse>) => {
      const cancellation = callCancellation(call);
      respond(callback, async () => {
        const { name, value } = call.request;
        const lease = call.request.lease !== 0n ? call.request.lease : await coordination.grantSessionLease();
        const prefix = `${name.toString('latin1')}/`;
        const key = Coordination.queueKey(prefix, lease);
        const queued = await coordination.enqueue(key, value, lease);
        const leader: LeaderKey = { name, key: Buffer.from(key, 'latin1'), rev: BigInt(queued.createRevision), lease };
        if (queued.kv !== undefined && !queued.kv.value.equals(value)) {
          // Already a candidate with another value: proclaim the new one.
          await coordination.ifCreated(key, leader.rev, { requestPut: { key: leader.key, value, lease, prevKv: false, ignoreValue: false, ignoreLease: false } });
        }
        try {
          await coordination.waitPredecessors(prefix, queued.createRevision, cancellation);
          // As etcd: the header is that of the txn that queued the candidate, not of the wait.
          return { header: queued.header, leader };
        } catch (error) {
          await coordination.ifCreated(key, leader.rev, { requestDeleteRange: { key: leader.key, rangeEnd: Buffer.alloc(0), prevKv: false } }).catch(() => undefined);
          throw error;
        }
      });
    },
    proclaim: (call: ServerUnaryCall<ProclaimRequest, ProclaimResponse>, callback: sendUnaryData<ProclaimResponse>) => {
      respond(callback, async () => {
        const leader = call.request.leader;
        if (leader === undefined) throw new MissingLeaderKeyError();
        const put = { requestPut: { key: leader.key, value: call.request.value, lease: leader.lease, prevKv: false, ignoreValue: false, ignoreLease: false } };
        const { succeeded, header } = await coordination.ifCreated(leader.key.toString('latin1'), leader.rev, put);
        if (!succeeded) throw new ElectionNotLeaderError();
        return { header };
      });
    },
    leader: (call: ServerUnaryCall<LeaderRequest, LeaderResponse>, callback: sendUnaryData<LeaderResponse>) => {
      respond(callback, async () => {
        const { kv, header } = coordination.first(`${call.request.name.toString('latin1')}/`);
        if (kv === undefined) throw new ElectionNoLeaderError();
        return { header, kv };
      });
    },
    resign: (call: ServerUnaryCall<ResignRequest, ResignResponse>, callback: sendUnaryData<ResignResponse>) => {
      respond(callback, async () => {
        const leader = call.request.leader;
        if (leader === undefined) throw new MissingLeaderKeyError();
        const del = { requestDeleteRange: { key: leader.key, rangeEnd: Buffer.alloc(0), prevKv: false } };
        return { header: (await coordination.ifCreated(leader.key.toString('latin1'), leader.rev, del)).header };
      });
    },
    observe: (call: ServerWritableStream<LeaderRequest, LeaderResponse>) => {
      const cancellation = callCancellation(call);
      observe(coordination, `${call.request.name.toString('latin1')}/`, cancellation, (response) => call.write(response)).then(
        () => call.end(),
        () => call.end(),
      );
    },
  };
}

/**
 * Streams the leader and every change of it, as etcd's Election.Observe:
 * the current leader (or the first one to appear), then each new value it
 * proclaims, until its key is deleted; then the next leader.
 */
async function observe(coordination: Coordination, prefix: string, cancellation: Cancellation, send: (response: LeaderResponse) => void): Promise<void> {
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
