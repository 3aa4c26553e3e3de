// etcdserverpb.Cluster: membership. Changes go through the log as
// single-server membership changes (docs/raft.md) and are answered once
// applied on this member, with the membership after them.
import type { ClusterServer, Member, MemberPromoteRequest, ResponseHeader } from '../../proto/gen/etcdserverpb/rpc.js';
import { LearnerNotReadyError } from '../membership/errors.js';
import { raftNodeId, uniqueAddedMemberId } from '../membership/ids.js';
import { ConfChangeType } from '../raft/index.js';
import { fillHeader, type ServiceContext } from './context.js';
import { unary } from '../grpc/unary.js';

/** etcd promotes a learner only once its log reaches 90% of the leader's. */
const learnerReadyFraction = 0.9;

/** etcd's Cluster responses carry no revision in their header. */
function clusterHeader(context: ServiceContext): ResponseHeader {
  return { ...fillHeader(context, undefined), revision: 0n };
}

/**
 * Promotes a learner; on the leader, which alone knows whether the learner's
 * log is close enough to its own (etcd's other members forward promotions
 * to it, and so do cairn's).
 */
export async function promoteOnLeader(context: ServiceContext, request: MemberPromoteRequest): Promise<Member[]> {
  const { membership, node } = context;
  membership.validatePromote(request.ID);
  const progress = node.progress();
  const leaderMatch = progress.get(node.id)?.match ?? 0;
  const learnerMatch = progress.get(raftNodeId(request.ID))?.match ?? 0;
  if (learnerMatch < leaderMatch * learnerReadyFraction) throw new LearnerNotReadyError();
  await node.changeMembership(ConfChangeType.AddNode, request.ID);
  return membership.list();
}

export function clusterService(context: ServiceContext): ClusterServer {
  const { membership, node } = context;
  const answer = () => ({ header: clusterHeader(context), members: membership.list() });
  return {
    memberList: unary(() => answer()),
    memberAdd: unary(async (request) => {
      membership.validateAdd(request.peerURLs, request.isLearner);
      // etcd's MemberAdd ID: from the peer URLs and the time, never one a member has or had.
      const ID = uniqueAddedMemberId(request.peerURLs, context.clock.wallMs(), membership.ids());
      const member: Member = { ID, name: '', peerURLs: request.peerURLs, clientURLs: [], isLearner: request.isLearner };
      await node.changeMembership(request.isLearner ? ConfChangeType.AddLearner : ConfChangeType.AddNode, ID, member);
      return { ...answer(), member };
    }),
    memberRemove: unary(async (request) => {
      membership.validateRemove(request.ID);
      await node.changeMembership(ConfChangeType.RemoveNode, request.ID);
      return answer();
    }),
    memberUpdate: unary(async (request) => {
      membership.validateUpdate(request.ID, request.peerURLs);
      await node.propose({ memberPeerUrls: { memberId: request.ID, peerUrls: request.peerURLs } });
      return answer();
    }),
    memberPromote: unary(async (request) => {
      if (node.isLeader) {
        await promoteOnLeader(context, request);
        return answer();
      }
      membership.validatePromote(request.ID); // an unknown ID or a voter is refused here, without a round trip
      const response = await context.forwarder.memberPromote(request);
      return { header: clusterHeader(context), members: response.members };
    }),
  };
}
