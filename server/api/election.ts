// v3electionpb.Election on the wire: decodes a call, runs the election of
// server/coordination/election.ts, and answers as etcd's election service does.
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
import type { Coordination } from '../coordination/coordination.js';
import { campaign, currentLeader, observe, proclaim, resign } from '../coordination/election.js';
import { MissingLeaderKeyError } from '../coordination/errors.js';
import { callCancellation, respond, type CallerAuth } from './lock.js';

export function electionService(coordination: Coordination, callerAuth: CallerAuth): ElectionServer {
  return {
    campaign: (call: ServerUnaryCall<CampaignRequest, CampaignResponse>, callback: sendUnaryData<CampaignResponse>) => {
      const cancellation = callCancellation(call);
      const { name, value, lease } = call.request;
      respond(callback, async () => campaign(coordination.as(await callerAuth(call)), name, value, lease, cancellation));
    },
    proclaim: (call: ServerUnaryCall<ProclaimRequest, ProclaimResponse>, callback: sendUnaryData<ProclaimResponse>) => {
      respond(callback, async () => ({ header: await proclaim(coordination.as(await callerAuth(call)), leaderKey(call.request.leader), call.request.value) }));
    },
    leader: (call: ServerUnaryCall<LeaderRequest, LeaderResponse>, callback: sendUnaryData<LeaderResponse>) => {
      respond(callback, async () => currentLeader(coordination.as(await callerAuth(call)), call.request.name));
    },
    resign: (call: ServerUnaryCall<ResignRequest, ResignResponse>, callback: sendUnaryData<ResignResponse>) => {
      respond(callback, async () => ({ header: await resign(coordination.as(await callerAuth(call)), leaderKey(call.request.leader)) }));
    },
    observe: (call: ServerWritableStream<LeaderRequest, LeaderResponse>) => {
      const cancellation = callCancellation(call);
      Promise.resolve()
        .then(async () => observe(coordination.as(await callerAuth(call)), call.request.name, cancellation, (leadership) => call.write(leadership)))
        .then(
          () => call.end(),
          () => call.end(),
        );
    },
  };
}

/** The request's leader key; etcd refuses a request without one. */
function leaderKey(leader: LeaderKey | undefined): LeaderKey {
  if (leader === undefined) throw new MissingLeaderKeyError();
  return leader;
}
