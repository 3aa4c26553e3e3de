// etcdserverpb.Cluster: membership. Changes go through the log as
// single-server membership changes (docs/raft.md) and are answered once
// applied on this member, with the membership after them.
import type { ClusterServer, Member } from '../../proto/gen/etcdserverpb/rpc.js';
import { LearnerNotReadyError } from '../membership/errors.js';
import { memberIdFor } from '../membership/ids.js';
import { ConfChangeType } from '../raft/index.js';
import { fillHeader, type ServiceContext } from './context.js';
import { unary } from './unary.js';

/** etcd promotes a learner only once its log reaches 90% of the leader's. */
const learnerReadyFraction = 0.9;

/**
 * Client URLs as members are listed: host:port, without the http:// scheme.
 * Go clients (etcdctl endpoint status/hashkv --cluster) dial a listed URL
 * with the whole URL as the HTTP/2 :authority, which Node's HTTP/2 layer
 * (nghttp2) refuses as malformed; host:port dials the same member and is
 * accepted everywhere (docs/cluster.md).
 */
function listed(member: Member): Member {
  return { ...member, clientURLs: member.clientURLs.map((url) => (url.startsWith('http://') ? url.slice('http://'.length) : url)) };
}

export function clusterService(context: ServiceContext): ClusterServer {
  const { membership, node } = context;
  const answer = () => ({ header: fillHeader(context, undefined), members: membership.list().map(listed) });
  return {
    memberList: unary(() => answer()),
    memberAdd: unary(async (request) => {
      membership.validateAdd(request.peerURLs, request.isLearner);
      const ID = memberIdFor(request.peerURLs, context.config.initialClusterToken, String(Date.now()));
      const member: Member = { ID, name: '', peerURLs: request.peerURLs, clientURLs: [], isLearner: request.isLearner };
      await node.changeMembership(request.isLearner ? ConfChangeType.AddLearner : ConfChangeType.AddNode, ID, member);
      return { ...answer(), member: listed(member) };
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
      membership.validatePromote(request.ID);
      if (node.isLeader) {
        const progress = node.progress();
        const leaderMatch = progress.get(node.id)?.match ?? 0;
        const learnerMatch = progress.get(Number(request.ID))?.match ?? 0;
        if (learnerMatch < leaderMatch * learnerReadyFraction) throw new LearnerNotReadyError();
      }
      await node.changeMembership(ConfChangeType.AddNode, request.ID);
      return answer();
    }),
  };
}
