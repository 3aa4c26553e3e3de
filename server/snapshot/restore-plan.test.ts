import { expect } from 'chai';
import { clusterIdOf } from '../node/bootstrap.js';
import { parseInitialCluster } from '../membership/initial-cluster.js';
import { RestoreMembershipError } from './errors.js';
import { planMembership } from './restore-plan.js';

const initialCluster = 'm1=http://127.0.0.1:2380,m2=http://127.0.0.1:2381,m3=http://127.0.0.1:2382';

describe('restore plan', () => {
  it('gives every member the IDs a new cluster with the same flags would have', () => {
    const plan = planMembership({ name: 'm2', initialCluster, initialClusterToken: 't', initialAdvertisePeerUrls: ['http://127.0.0.1:2381'] });
    const founders = parseInitialCluster(initialCluster, 't');
    expect(plan.founders).to.deep.equal(founders);
    expect(plan.self).to.deep.equal(founders[1]);
    expect(plan.clusterId).to.equal(clusterIdOf(founders));
    const other = planMembership({ name: 'm1', initialCluster, initialClusterToken: 't', initialAdvertisePeerUrls: ['http://127.0.0.1:2380'] });
    expect(other.clusterId).to.equal(plan.clusterId);
  });

  it('refuses a name the cluster does not list, and peer URLs that differ from the cluster\'s, in etcd\'s words', () => {
    const flags = { name: 'm2', initialCluster, initialClusterToken: 't', initialAdvertisePeerUrls: ['http://127.0.0.1:2381'] };
    expect(() => planMembership({ ...flags, name: 'm9' })).to.throw(RestoreMembershipError, 'couldn\'t find local name "m9" in the initial cluster configuration');
    expect(() => planMembership({ ...flags, initialAdvertisePeerUrls: ['http://127.0.0.1:9999'] })).to.throw(
      RestoreMembershipError,
      '--initial-cluster has m2=http://127.0.0.1:2381 but missing from --initial-advertise-peer-urls=http://127.0.0.1:9999 (resolved urls: "http://127.0.0.1:9999" != "http://127.0.0.1:2381")',
    );
    expect(() => planMembership({ ...flags, initialAdvertisePeerUrls: ['http://127.0.0.1:2381', 'http://127.0.0.1:9999'] })).to.throw(
      RestoreMembershipError,
      '--initial-advertise-peer-urls has http://127.0.0.1:9999 but missing from --initial-cluster=m2=http://127.0.0.1:2381,m2=http://127.0.0.1:9999',
    );
    expect(() => planMembership({ ...flags, initialAdvertisePeerUrls: ['nonsense'] })).to.throw(RestoreMembershipError, '--initial-advertise-peer-urls');
    expect(() => planMembership({ ...flags, initialCluster: 'm2' })).to.throw(RestoreMembershipError, 'is not name=URL');
  });
});
