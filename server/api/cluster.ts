// etcdserverpb.Cluster: a single node lists itself. Membership changes come
// with replication.
import type { ClusterServer, Member } from '../../proto/gen/etcdserverpb/rpc.js';
import { fillHeader, type ServiceContext } from './context.js';
import { requestErrors } from './errors.js';
import { unary } from './unary.js';

export function clusterService(context: ServiceContext): ClusterServer {
  const self = (): Member => ({
    ID: context.memberId,
    name: context.config.name,
    peerURLs: context.config.initialAdvertisePeerUrls,
    clientURLs: context.config.advertiseClientUrls,
    isLearner: false,
  });
  const refuse = unary(() => {
    throw requestErrors.notCapable();
  });
  return {
    memberList: unary(() => ({ header: fillHeader(context, undefined), members: [self()] })),
    memberAdd: refuse,
    memberRemove: refuse,
    memberUpdate: refuse,
    memberPromote: refuse,
  };
}
