// The members each deployment file starts, read from the files (not
// retyped): they must form one cluster as etcd's bootstrap rules want it
// (every member lists the same founders, each founder by its own name and
// advertised peer URL, one token), use only variables cairn reads, listen
// where they advertise, and keep their data where the volume is.
import { expect } from 'chai';
import { ownFlagKind } from '../../server/config.js';
import { imageDataDir } from './loopback-cluster.js';
import { composeLaunches, flagValue, kubernetesLaunches, systemdLaunches, type MemberLaunch } from './launches.js';

const sources: Array<{ name: string; launches: () => MemberLaunch[] }> = [
  { name: 'deploy/docker/compose.yaml', launches: composeLaunches },
  { name: 'deploy/kubernetes/statefulset.yaml', launches: () => kubernetesLaunches('some-namespace') },
  { name: 'deploy/systemd/cairn.service', launches: systemdLaunches },
];

function flag(launch: MemberLaunch, name: string): string {
  const value = flagValue(launch, name);
  if (value === undefined) throw new Error(`${launch.member}: --${name} is not set`);
  return value;
}

for (const source of sources) {
  describe(`${source.name}: the members it starts`, () => {
    const launches = source.launches();

    it('are 3 founders of one new cluster: the same --initial-cluster and token, naming each by its name and advertised peer URL', () => {
      expect(launches).to.have.length(3);
      const founders = launches.map((launch) => `${flag(launch, 'name')}=${flag(launch, 'initial-advertise-peer-urls')}`);
      expect(new Set(launches.map((launch) => flag(launch, 'name'))).size, 'distinct names').to.equal(3);
      for (const launch of launches) {
        expect(flag(launch, 'initial-cluster').split(','), launch.member).to.have.members(founders);
        expect(flag(launch, 'initial-cluster-state'), launch.member).to.equal('new');
      }
      expect(new Set(launches.map((launch) => flag(launch, 'initial-cluster-token'))).size, 'one token').to.equal(1);
    });

    it('set only ETCD_ variables that name a flag cairn acts on, and no flag twice (command line and variable)', () => {
      for (const launch of launches) {
        for (const key of Object.keys(launch.env).filter((name) => name.startsWith('ETCD_'))) {
          const name = key.slice('ETCD_'.length).toLowerCase().replaceAll('_', '-');
          expect(ownFlagKind(name), `${launch.member}: ${key}`).to.not.equal(undefined);
          expect(launch.argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`)), `${launch.member}: --${name} beside ${key}`).to.equal(false);
        }
      }
    });

    it('listen on every interface on the ports they advertise (2379 clients, 2380 peers), by one host name', () => {
      for (const launch of launches) {
        const advertisedClient = new URL(flag(launch, 'advertise-client-urls'));
        const advertisedPeer = new URL(flag(launch, 'initial-advertise-peer-urls'));
        expect(advertisedClient.hostname, launch.member).to.equal(advertisedPeer.hostname);
        expect([advertisedClient.port, advertisedPeer.port], launch.member).to.deep.equal(['2379', '2380']);
        expect(flag(launch, 'listen-client-urls'), launch.member).to.equal('http://0.0.0.0:2379');
        expect(flag(launch, 'listen-peer-urls'), launch.member).to.equal('http://0.0.0.0:2380');
      }
    });

    it(`keep their data in the image's volume, ${imageDataDir()}`, () => {
      for (const launch of launches) expect(flag(launch, 'data-dir'), launch.member).to.equal(imageDataDir());
    });
  });
}
