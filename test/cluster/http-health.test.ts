// /health in a 3-member cluster that loses its quorum, on etcd (the
// reference) and on cairn: every member says true while the cluster serves;
// the member left alone says false (503) once it has no leader. etcd 3.5's
// ?serializable=true asks about the member alone: cairn then says true, etcd
// 3.4 ignores the parameter. cairn's /readyz names the check that fails.
import { expect } from 'chai';
import { clusterForSuite, type ClusterMember } from '../harness/cluster.js';
import type { ServerKind } from '../harness/launcher.js';
import { must } from '../harness/must.js';

const kinds: ServerKind[] = ['etcd', 'cairn'];
const timingArgs = ['--heartbeat-interval', '100', '--election-timeout', '1000'];
const clusterStartMsMax = 60_000;
const unhealthyWaitMsMax = 15_000;
const pollMs = 200;

async function health(member: ClusterMember, query = ''): Promise<{ status: number; body: string }> {
  const response = await fetch(`${member.clientUrl}/health${query}`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: await response.text() };
}

for (const kind of kinds) {
  describe(`/health (${kind}): a member that lost its quorum`, function () {
    this.timeout(clusterStartMsMax + unhealthyWaitMsMax);
    const cluster = clusterForSuite(kind, { size: 3, args: timingArgs }, clusterStartMsMax);

    it('says true on every member, then false (503) on the one left alone; ?serializable=true is cairn\'s (etcd 3.5) check of the member alone', async () => {
      const members = cluster().members;
      for (const member of members) expect(await health(member), member.name).to.deep.equal({ status: 200, body: '{"health":"true"}' });
      const alone = must(members[0], 'member 1');
      await Promise.all(members.slice(1).map((member) => member.stop()));
      const deadline = Date.now() + unhealthyWaitMsMax;
      let answer = await health(alone);
      while (answer.status === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        answer = await health(alone);
      }
      expect(answer).to.deep.equal({ status: 503, body: '{"health":"false"}\n' });
      const serializable = await health(alone, '?serializable=true');
      if (kind === 'etcd') {
        expect(serializable.status, 'etcd 3.4 ignores ?serializable').to.equal(503);
        return;
      }
      expect(serializable).to.deep.equal({ status: 200, body: '{"health":"true"}' });
      const ready = await fetch(`${alone.clientUrl}/readyz?verbose`);
      expect(ready.status).to.equal(503);
      const lines = (await ready.text()).split('\n');
      expect(lines).to.include('[+]serializable_read ok');
      expect(lines.some((line) => line.startsWith('[-]linearizable_read failed: '))).to.equal(true);
      expect((await fetch(`${alone.clientUrl}/livez`)).status).to.equal(200);
    });
  });
}
