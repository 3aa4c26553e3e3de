// A real 3-member cluster from each deployment file's own command lines and
// environment (compose, the Kubernetes StatefulSet, the systemd unit), moved
// onto 127.0.0.1 by the substitution loopback.ts states and nothing else,
// running from the files the image holds. Each cluster elects a leader,
// replicates a write, answers its health endpoints and the probes the files
// name; the image's HEALTHCHECK, run as written, tells a running member from
// a stopped one; SIGTERM stops a member cleanly with exit code 0.
import { expect } from 'chai';
import { runCommand } from '../harness/command.js';
import { must } from '../harness/must.js';
import { kubernetesObjects } from './deploy-files.js';
import { durationMs } from './dockerfile.js';
import { cairnContainer, statefulSetOf } from './kubernetes.js';
import { composeLaunches, kubernetesLaunches, runtimeImage, systemdLaunches, type MemberLaunch } from './launches.js';
import { agreedLeader, get, httpGet, put, startLoopbackCluster, type LoopbackCluster } from './loopback-cluster.js';

const clusterStartMsMax = 40_000;
/** The namespace the pods' fieldRef reads; any name would do, as hosts become 127.0.0.1. */
const namespace = 'default';

/** The HTTP paths each file's probes ask for; compose's health check is the image's. */
function probePaths(): string[] {
  const container = cairnContainer(statefulSetOf(kubernetesObjects()));
  return [container.startupProbe, container.livenessProbe, container.readinessProbe].map((probe) => must(probe?.httpGet?.path, 'an httpGet probe'));
}

const sources: Array<{ name: string; launches: () => MemberLaunch[]; paths: () => string[] }> = [
  { name: 'deploy/docker/compose.yaml', launches: composeLaunches, paths: () => ['/health'] },
  { name: 'deploy/kubernetes/statefulset.yaml', launches: () => kubernetesLaunches(namespace), paths: probePaths },
  { name: 'deploy/systemd/cairn.service', launches: systemdLaunches, paths: () => ['/health'] },
];

for (const source of sources) {
  describe(`${source.name}: its 3 members, started on 127.0.0.1 as the file starts them`, function () {
    this.timeout(clusterStartMsMax);
    let cluster: LoopbackCluster | undefined;
    const running = (): LoopbackCluster => must(cluster, 'a running cluster');

    before(async function () {
      this.timeout(clusterStartMsMax);
      const launches = source.launches();
      expect(launches.map((launch) => launch.member)).to.have.length(3);
      cluster = await startLoopbackCluster(launches);
    });

    after(async () => {
      await cluster?.destroy();
    });

    it('agree on a leader, and a write on one member is read on another', async () => {
      const members = running().members;
      await agreedLeader(members);
      const [first, , last] = members;
      await put(must(first, 'member 1'), 'deploy/written-on', must(first, 'member 1').member);
      expect(await get(must(last, 'member 3'), 'deploy/written-on')).to.equal(must(first, 'member 1').member);
    });

    it(`answer 200 on /health, /readyz and the file's probes (${source.paths().join(', ')}) on every member`, async () => {
      for (const member of running().members) {
        expect(await httpGet(member, '/health'), member.member).to.deep.equal({ status: 200, body: '{"health":"true"}' });
        expect((await httpGet(member, '/readyz')).status, `${member.member} /readyz`).to.equal(200);
        for (const path of source.paths()) expect((await httpGet(member, path)).status, `${member.member} ${path}`).to.equal(200);
      }
    });

    it('stop with exit code 0 on SIGTERM; the image\'s HEALTHCHECK passes on a running member and fails on a stopped one', async () => {
      const member = must(running().members.at(-1), 'member 3');
      const healthCheck = must(runtimeImage().healthCheck, 'a HEALTHCHECK');
      const [command, ...args] = member.relocate(healthCheck.argv);
      const timeoutMs = durationMs(must(healthCheck.options.timeout, 'HEALTHCHECK --timeout'));
      expect((await runCommand(must(command, 'a command'), args, { timeoutMs })).code, 'health check of a running member').to.equal(0);
      const stoppedAt = Date.now();
      expect(await member.server.stop(), member.server.output()).to.equal(0);
      const stopMs = Date.now() - stoppedAt;
      expect(stopMs, 'a clean stop well within the stop grace periods (30 s)').to.be.below(5_000);
      expect((await runCommand(must(command, 'a command'), args, { timeoutMs })).code, 'health check of a stopped member').to.equal(1);
    });
  });
}
