// deploy/docker/Dockerfile and .dockerignore, read as the builder reads
// them: a build stage that installs, builds and prunes; a slim runtime stage
// that runs the package's bin as a numeric non-root user, with its data in a
// volume, etcd's ports, a health check the slim image can run, and a stop
// signal the server handles.
import { expect } from 'chai';
import { join } from 'node:path';
import { must } from '../harness/must.js';
import { repositoryRoot } from '../harness/sources.js';
import { deployPaths, readText } from './deploy-files.js';
import { durationMs, imageConfig } from './dockerfile.js';
import { dockerStages, runtimeImage } from './launches.js';
import { importedPackages, productionPackages } from './pruned-modules.js';

const packageJson = JSON.parse(readText(join(repositoryRoot, 'package.json'))) as { bin: Record<string, string> };

describe('deploy/docker/Dockerfile', () => {
  const stages = dockerStages();
  const [build, runtime] = stages;
  const image = runtimeImage();

  it('builds in a full node 20 stage (npm ci, npm run build, npm prune --omit=dev) and runs in node:20-bookworm-slim', () => {
    expect(stages).to.have.length(2);
    expect(must(build, 'a build stage').base).to.equal('node:20-bookworm');
    expect(must(runtime, 'a runtime stage').base).to.equal('node:20-bookworm-slim');
    const commands = must(build, 'a build stage').instructions.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => instruction.text).join(' && ');
    const order = ['npm ci', 'npm run build', 'npm prune --omit=dev'].map((command) => commands.indexOf(command));
    expect(order.every((index, i) => index >= 0 && (i === 0 || index > (order[i - 1] as number))), commands).to.equal(true);
  });

  it('copies only package.json, production node_modules, the compiled server, the web console and the .proto files from the build stage', () => {
    const buildDir = imageConfig(must(build, 'a build stage')).workdir;
    expect(image.copies.every((copy) => copy.from === must(build, 'a build stage').name)).to.equal(true);
    expect(image.copies.map((copy) => copy.sources.join(' '))).to.have.members(
      ['package.json', 'node_modules', 'dist/server', 'dist/proto', 'dist/console', 'proto'].map((path) => `${buildDir}/${path}`),
    );
  });

  it('runs the package\'s bin with node in exec form (node is PID 1), stopped by SIGTERM, which the server handles', () => {
    expect(image.entrypoint).to.deep.equal(['node', `${image.workdir}/${packageJson.bin.cairn}`]);
    expect(image.cmd).to.deep.equal([]);
    expect(image.stopSignal).to.equal('SIGTERM');
    expect(readText(join(repositoryRoot, 'server', 'main.ts'))).to.include("process.on('SIGTERM'");
  });

  it('runs as a numeric non-root user, the one that owns the data directory', () => {
    const [uid, gid] = must(image.user, 'USER').split(':');
    expect(Number(uid)).to.be.greaterThan(0);
    const commands = must(runtime, 'a runtime stage').instructions.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => instruction.text).join(' ');
    expect(commands).to.include(`useradd --system --uid ${uid} --gid cairn`);
    expect(commands).to.include(`groupadd --system --gid ${gid} cairn`);
    expect(commands).to.include(`install -d -o cairn -g cairn -m 0700 ${image.env.ETCD_DATA_DIR}`);
  });

  it('keeps its data in a volume at ETCD_DATA_DIR, exposes 2379 and 2380, and listens on 0.0.0.0', () => {
    expect(image.volumes).to.deep.equal([image.env.ETCD_DATA_DIR]);
    expect(image.exposed).to.have.members(['2379', '2380']);
    expect(image.env.ETCD_LISTEN_CLIENT_URLS).to.equal('http://0.0.0.0:2379');
    expect(image.env.ETCD_LISTEN_PEER_URLS).to.equal('http://0.0.0.0:2380');
  });

  it('checks its health with node (no curl in slim): GET /health on the client port, given up before the check\'s timeout', () => {
    const check = must(image.healthCheck, 'HEALTHCHECK');
    expect(check.argv.slice(0, 2)).to.deep.equal(['node', '-e']);
    const script = must(check.argv[2], 'a script');
    expect(script).to.include(`'${image.env.ETCD_LISTEN_CLIENT_URLS?.replace('0.0.0.0', '127.0.0.1')}/health'`);
    const abortMs = Number(must(/AbortSignal\.timeout\((\d+)\)/.exec(script)?.[1], 'a request timeout'));
    expect(abortMs).to.be.below(durationMs(must(check.options.timeout, '--timeout')));
    expect(durationMs(must(check.options['start-period'], '--start-period'))).to.be.at.least(10_000);
  });
});

describe('.dockerignore', () => {
  const patterns = readText(deployPaths.dockerignore).split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));

  it('leaves the host\'s node_modules and dist out of the build context (their native addons are the host\'s)', () => {
    expect(patterns).to.include.members(['node_modules', '**/dist']);
  });

  it('keeps what the build stage copies', () => {
    const sources = dockerStages()[0]?.instructions.filter((instruction) => instruction.keyword === 'COPY').flatMap((instruction) => instruction.text.split(/\s+/).slice(0, -1)) ?? [];
    expect(sources).to.include.members(['package.json', 'package-lock.json', 'scripts', '.']);
    for (const source of sources.filter((path) => path !== '.')) expect(patterns, source).to.not.include(source);
  });
});

describe('deploy/docker/Dockerfile: the pruned node_modules', () => {
  const entry = join(repositoryRoot, 'dist', 'server', 'main.js');

  it('holds every package the server imports, following its imports from dist/server/main.js', () => {
    const imported = importedPackages(entry);
    const production = new Set(productionPackages());
    expect([...imported].filter((name) => !production.has(name)).sort(), 'imported by the server but removed by the prune (not production dependencies)').to.deep.equal([]);
    expect(imported.size).to.be.greaterThan(10);
  });
});
