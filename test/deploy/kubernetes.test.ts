// deploy/kubernetes: every file parses; the StatefulSet, its headless peer
// Service, the client Service and the PodDisruptionBudget fit together
// (names, selectors, ports, the volume at the data directory) and run the
// members as the image's non-root user, probed on the paths the server
// serves. That the members form a cluster is clusters.test.ts's part.
import { expect } from 'chai';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runCommand } from '../harness/command.js';
import { must } from '../harness/must.js';
import { at, deployPaths, kubernetesObjects, objectOf, readYaml, yamlFiles, type KubernetesObject } from './deploy-files.js';
import { cairnContainer, statefulSetOf, type Probe } from './kubernetes.js';
import { kubernetesLaunches, runtimeImage } from './launches.js';
import { imageDataDir } from './loopback-cluster.js';
import { findTool } from './tools.js';

const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('deploy/kubernetes', () => {
  const objects = kubernetesObjects();
  const statefulSet = statefulSetOf(objects);
  const container = cairnContainer(statefulSet);
  const podLabels = at(statefulSet, 'spec.template.metadata.labels') as Record<string, string>;
  const services = objects.filter((object) => object.kind === 'Service');
  const peerService = must(services.find((service) => service.spec?.clusterIP === 'None'), 'a headless Service');
  const clientService = must(services.find((service) => service !== peerService), 'a client Service');

  it('holds a StatefulSet, a headless Service, a client Service and a PodDisruptionBudget, all listed in kustomization.yaml', () => {
    expect(objects.map((object) => `${object.apiVersion} ${object.kind}`)).to.have.members(['apps/v1 StatefulSet', 'v1 Service', 'v1 Service', 'policy/v1 PodDisruptionBudget']);
    const kustomization = readYaml(join(deployPaths.kubernetes, 'kustomization.yaml')) as { resources: string[] };
    expect(kustomization.resources).to.have.members(yamlFiles(deployPaths.kubernetes).filter((name) => name !== 'kustomization.yaml'));
  });

  it('runs 3 replicas in parallel, named through the headless Service that publishes not-ready members', () => {
    expect(statefulSet.spec?.replicas).to.equal(3);
    expect(statefulSet.spec?.podManagementPolicy).to.equal('Parallel');
    expect(statefulSet.spec?.serviceName).to.equal(peerService.metadata.name);
    expect(peerService.spec?.publishNotReadyAddresses).to.equal(true);
    for (const launch of kubernetesLaunches('ns')) {
      expect(new URL(must(launch.env.ETCD_INITIAL_ADVERTISE_PEER_URLS, 'a peer URL')).hostname).to.equal(`${launch.member}.${peerService.metadata.name}.ns.svc`);
    }
  });

  it('selects its pods by the labels they carry: StatefulSet, both Services and the PodDisruptionBudget (maxUnavailable 1)', () => {
    const pdb = objectOf(objects, 'PodDisruptionBudget');
    expect(labelsMatch(at(statefulSet, 'spec.selector.matchLabels') as Record<string, string>, podLabels), 'StatefulSet').to.equal(true);
    for (const service of services) expect(labelsMatch(service.spec?.selector as Record<string, string>, podLabels), service.metadata.name).to.equal(true);
    expect(labelsMatch(at(pdb, 'spec.selector.matchLabels') as Record<string, string>, podLabels), 'PodDisruptionBudget').to.equal(true);
    expect(pdb.spec?.maxUnavailable).to.equal(1);
  });

  it('opens 2379 (client) and 2380 (peer) on the container, the peer Service and the client Service (2379 alone)', () => {
    expect(container.ports).to.deep.equal([{ name: 'client', containerPort: 2379 }, { name: 'peer', containerPort: 2380 }]);
    const ports = (service: KubernetesObject) => service.spec?.ports as Array<{ name: string; port: number; targetPort: string }>;
    expect(ports(peerService)).to.deep.equal([{ name: 'client', port: 2379, targetPort: 'client' }, { name: 'peer', port: 2380, targetPort: 'peer' }]);
    expect(ports(clientService)).to.deep.equal([{ name: 'client', port: 2379, targetPort: 'client' }]);
  });

  it('probes the client port: startup and liveness on /livez (no leader needed), readiness on /readyz', () => {
    const probe = (value: Probe | undefined) => ({ path: value?.httpGet?.path, port: value?.httpGet?.port });
    expect(probe(container.startupProbe)).to.deep.equal({ path: '/livez', port: 'client' });
    expect(probe(container.livenessProbe)).to.deep.equal({ path: '/livez', port: 'client' });
    expect(probe(container.readinessProbe)).to.deep.equal({ path: '/readyz', port: 'client' });
  });

  it('mounts the claimed volume at the image\'s data directory and a writable /tmp on a read-only root', () => {
    const claims = at(statefulSet, 'spec.volumeClaimTemplates') as KubernetesObject[];
    expect(claims.map((claim) => claim.metadata.name)).to.deep.equal(['data']);
    expect(container.volumeMounts).to.deep.include({ name: 'data', mountPath: imageDataDir() });
    expect(container.volumeMounts).to.deep.include({ name: 'tmp', mountPath: '/tmp' });
    expect(container.env?.some((variable) => variable.name === 'ETCD_DATA_DIR'), 'the image sets ETCD_DATA_DIR').to.equal(false);
    expect(at(claims[0], 'spec.resources.requests.storage')).to.be.a('string');
  });

  it('runs as the image\'s non-root user without privileges, with resources and a stop grace period', () => {
    const [uid, gid] = must(runtimeImage().user, 'USER').split(':').map(Number);
    expect(at(statefulSet, 'spec.template.spec.securityContext')).to.deep.include({ runAsNonRoot: true, runAsUser: uid, runAsGroup: gid, fsGroup: gid });
    expect(container.securityContext).to.deep.equal({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(at(container, 'resources.requests.memory')).to.be.a('string');
    expect(at(container, 'resources.limits.memory')).to.be.a('string');
    expect(at(statefulSet, 'spec.template.spec.terminationGracePeriodSeconds')).to.be.at.least(10);
  });
});

describe('deploy/kubernetes with kubectl kustomize (offline: kubectl apply -k builds the same objects)', () => {
  it('gives exactly the objects of the files', async function () {
    const kubectl = await findTool('kubectl', ['version', '--client']);
    if (kubectl === undefined) {
      console.warn('    skipped: kubectl is not installed');
      this.skip();
    }
    const rendered = await runCommand(kubectl, ['kustomize', deployPaths.kubernetes]);
    expect(rendered.code, rendered.stderr).to.equal(0);
    const objects = parseAllDocuments(rendered.stdout).map((document) => document.toJS() as KubernetesObject);
    expect(objects).to.have.deep.members(kubernetesObjects());
  });
});
