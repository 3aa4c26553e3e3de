// deploy/docker/compose.yaml: three members built from the Dockerfile, each
// with its own named volume at the image's data directory, its client port
// published on the host's loopback only, the image's health check (a
// healthcheck without test keeps it), and an init that forwards SIGTERM.
// That the members form a cluster is clusters.test.ts's part.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { must } from '../harness/must.js';
import { deployPaths } from './deploy-files.js';
import { composeFile } from './launches.js';
import { imageDataDir } from './loopback-cluster.js';

describe('deploy/docker/compose.yaml', () => {
  const compose = composeFile();
  const services = Object.entries(compose.services);

  it('builds every member\'s image from deploy/docker/Dockerfile with the repository as context, under one tag', () => {
    expect(services.map(([name]) => name)).to.deep.equal(['cairn1', 'cairn2', 'cairn3']);
    for (const [name, service] of services) {
      const build = must(service.build, `${name}: build`);
      const context = resolve(dirname(deployPaths.compose), build.context);
      expect(existsSync(join(context, 'package.json')), `${name}: the context is the repository root`).to.equal(true);
      expect(resolve(context, build.dockerfile), name).to.equal(deployPaths.dockerfile);
    }
    expect(new Set(services.map(([, service]) => service.image)).size).to.equal(1);
  });

  it('gives each member a named volume of its own at the data directory', () => {
    const mounts = services.map(([, service]) => must(service.volumes?.[0], 'a volume').split(':'));
    for (const [volume, path] of mounts) {
      expect(path).to.equal(imageDataDir());
      expect(compose.volumes ?? {}).to.have.property(must(volume, 'a volume name'));
    }
    expect(new Set(mounts.map(([volume]) => volume)).size).to.equal(services.length);
  });

  it('publishes each client port (2379 in the container) on the host\'s 127.0.0.1 only, on distinct host ports', () => {
    const published = services.map(([, service]) => must(service.ports?.[0], 'a published port').split(':'));
    for (const [address, , containerPort] of published) expect([address, containerPort]).to.deep.equal(['127.0.0.1', '2379']);
    expect(new Set(published.map(([, hostPort]) => hostPort)).size).to.equal(services.length);
  });

  it('keeps the image\'s health check (a healthcheck without test) and runs an init that forwards SIGTERM', () => {
    for (const [name, service] of services) {
      const healthcheck = must(service.healthcheck, `${name}: healthcheck`);
      expect(healthcheck, name).to.not.have.property('test');
      expect(healthcheck, name).to.not.have.property('disable');
      expect(service.init, name).to.equal(true);
      expect(service.stop_grace_period, name).to.be.a('string');
    }
  });
});
