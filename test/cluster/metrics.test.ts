// Cluster metrics of a 3-member cluster, on etcd (the reference) and on
// cairn: every member has a leader and exactly one is it, each has seen the
// election, and each measures its round trip to every other member
// (etcd_network_peer_round_trip_time_seconds, labelled To=<peer ID in hex>)
// within a few probe intervals.
import { expect } from 'chai';
import { clusterForSuite } from '../harness/cluster.js';
import type { ServerKind } from '../harness/launcher.js';
import { scrape, sampleValue, type MetricFamily } from '../harness/prometheus.js';
import { hexId, memberList } from './membership-etcdctl.js';

const kinds: ServerKind[] = ['etcd', 'cairn'];
const timingArgs = ['--heartbeat-interval', '100', '--election-timeout', '1000'];
const clusterStartMsMax = 60_000;
/** etcd and cairn probe every 4 s: three intervals and some. */
const roundTripWaitMsMax = 15_000;
const pollMs = 500;

/** The peers a member has measured a round trip to, as the To labels of its histogram's count. */
function measuredPeers(families: Map<string, MetricFamily>): string[] {
  const samples = families.get('etcd_network_peer_round_trip_time_seconds')?.samples ?? [];
  return samples.filter((sample) => sample.name.endsWith('_count') && sample.value > 0).map((sample) => sample.labels.To ?? '').sort();
}

for (const kind of kinds) {
  describe(`metrics (${kind}): a 3-member cluster`, function () {
    this.timeout(clusterStartMsMax + roundTripWaitMsMax);
    const cluster = clusterForSuite(kind, { size: 3, args: timingArgs }, clusterStartMsMax);

    it('every member reports the leader, one is it, and each measures the round trip to both others', async () => {
      const { members } = cluster();
      const ids = (await memberList(members[0]?.endpoint ?? '')).members.map((member) => hexId(member.ID));
      expect(ids).to.have.length(3);
      const deadline = Date.now() + roundTripWaitMsMax;
      let scrapes = await Promise.all(members.map((member) => scrape(member.clientUrl)));
      while (scrapes.some((families) => measuredPeers(families).length < 2) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        scrapes = await Promise.all(members.map((member) => scrape(member.clientUrl)));
      }
      let leaders = 0;
      for (const families of scrapes) {
        const self = families.get('etcd_server_id')?.samples[0]?.labels.server_id ?? '';
        expect(ids).to.include(self);
        expect(sampleValue(families, 'etcd_server_has_leader')).to.equal(1);
        expect(sampleValue(families, 'etcd_server_leader_changes_seen_total')).to.be.at.least(1);
        leaders += sampleValue(families, 'etcd_server_is_leader') ?? 0;
        const others = ids.filter((id) => id !== self).sort();
        expect(measuredPeers(families), `${self}'s measured peers`).to.deep.equal(others);
      }
      expect(leaders).to.equal(1);
    });
  });
}
