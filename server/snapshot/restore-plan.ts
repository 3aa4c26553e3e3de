// Who the restored member is: the new cluster's founders from
// --initial-cluster and --initial-cluster-token, this member among them by
// --name, its peer URLs checked against --initial-advertise-peer-urls — the
// checks etcd's restore makes (ServerConfig.VerifyBootstrap), in its words.
// Member and cluster IDs are derived exactly as a member bootstrapping a new
// cluster derives them, so every member restored with the same flags agrees
// on them without talking to the others.
import { MemberBadUrlsError } from '../membership/errors.js';
import { checkPeerUrls } from '../membership/membership.js';
import { InitialClusterError, parseInitialCluster, type InitialMember } from '../membership/initial-cluster.js';
import { clusterIdOf } from '../node/bootstrap.js';
import { RestoreMembershipError } from './errors.js';

export interface MembershipFlags {
  name: string;
  initialCluster: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string[];
}

export interface RestorePlan {
  /** The founding members, in --initial-cluster order. */
  founders: InitialMember[];
  /** This member. */
  self: InitialMember;
  clusterId: bigint;
}

/** Throws RestoreMembershipError when the flags do not describe this member of a new cluster. */
export function planMembership(flags: MembershipFlags): RestorePlan {
  let founders: InitialMember[];
  try {
    checkPeerUrls(flags.initialAdvertisePeerUrls);
    founders = parseInitialCluster(flags.initialCluster, flags.initialClusterToken);
  } catch (error) {
    if (error instanceof InitialClusterError) throw new RestoreMembershipError(error.message);
    if (error instanceof MemberBadUrlsError) {
      throw new RestoreMembershipError(`--initial-advertise-peer-urls: ${flags.initialAdvertisePeerUrls.join(',')} must be http:// or https:// URLs with a port`);
    }
    throw error;
  }
  const self = founders.find((founder) => founder.name === flags.name);
  if (self === undefined) throw new RestoreMembershipError(`couldn't find local name "${flags.name}" in the initial cluster configuration`);
  checkAdvertised(self, flags.initialAdvertisePeerUrls);
  return { founders, self, clusterId: clusterIdOf(founders) };
}

/**
 * etcd's advertiseMatchesCluster: the member's URLs in --initial-cluster and
 * --initial-advertise-peer-urls must be the same set. URLs are compared as
 * written, as cairn's server compares them when it bootstraps (etcd also
 * resolves host names, so localhost and 127.0.0.1 may match there).
 */
function checkAdvertised(self: InitialMember, advertised: string[]): void {
  const inCluster = [...self.peerUrls].sort();
  const given = [...advertised].sort();
  if (inCluster.join(',') === given.join(',')) return;
  const missingFromAdvertised = inCluster.filter((url) => !given.includes(url));
  if (missingFromAdvertised.length > 0) {
    const missing = missingFromAdvertised.map((url) => `${self.name}=${url}`).join(',');
    throw new RestoreMembershipError(
      `--initial-cluster has ${missing} but missing from --initial-advertise-peer-urls=${given.join(',')} (resolved urls: "${given.join(',')}" != "${inCluster.join(',')}")`,
    );
  }
  const missing = given.filter((url) => !inCluster.includes(url)).join(',');
  throw new RestoreMembershipError(`--initial-advertise-peer-urls has ${missing} but missing from --initial-cluster=${self.name}=${given.join(`,${self.name}=`)}`);
}
