// The packages as a user gets them: scripts/build-packages.mjs builds
// @cairn-kv/client, @cairn-kv/recipes and @cairn-kv/server, `npm pack` makes
// their tarballs, and new apps in a temporary directory install the tarballs
// (from the files, with their dependencies from the npm registry; nothing
// links back to this repository):
// - an app that wants only the SDK and the recipes gets no server dependency
//   (no lmdb, no native code);
// - an app with all three runs a program that imports them by package name,
//   against a server started from the installed `cairn` bin, and starts an
//   embedded server too.
// Tarball sizes and the SDK-only app's dependency count are printed.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, type CommandResult } from '../harness/command.js';
import { freePort, launch, type ServerProcess } from '../harness/launcher.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const packages = ['client', 'recipes', 'server'] as const;
type PackageFolder = (typeof packages)[number];
const buildTimeoutMs = 180_000;
const installTimeoutMs = 240_000;
/** rxjs is the SDK's peer dependency: the app brings it. */
const rxjs = 'rxjs@^7.8.0';

/** What `npm pack --json` says of one tarball. */
interface Packed {
  name: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

async function must(what: string, result: Promise<CommandResult>): Promise<CommandResult> {
  const done = await result;
  if (done.code !== 0) throw new Error(`${what} failed (${done.code}): ${done.stderr}${done.stdout}`.slice(0, 4_000));
  return done;
}

/** A new app in `directory` with the tarballs (and rxjs) installed from the files. */
async function installApp(directory: string, tarballs: string[]): Promise<void> {
  writeFileSync(join(directory, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  await must('npm install', runCommand('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs, rxjs], { cwd: directory, timeoutMs: installTimeoutMs }));
}

/** The packages an app's install put in node_modules (npm's hidden lockfile lists each once). */
function installedPackages(directory: string): string[] {
  const lock = JSON.parse(readFileSync(join(directory, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  return Object.keys(lock.packages).filter((path) => path.startsWith('node_modules/'));
}

describe('packaging: the packed packages installed into new apps', function () {
  this.timeout(buildTimeoutMs + 2 * installTimeoutMs);
  let work = '';
  const packed = new Map<PackageFolder, Packed>();
  const tarball = (folder: PackageFolder) => join(work, 'tarballs', (packed.get(folder) as Packed).filename);

  before(async function () {
    this.timeout(buildTimeoutMs);
    work = mkdtempSync(join(tmpdir(), 'cairn-packaging-'));
    mkdirSync(join(work, 'tarballs'));
    await must('build-packages', runCommand(process.execPath, [join(root, 'scripts', 'build-packages.mjs')], { timeoutMs: buildTimeoutMs }));
    for (const folder of packages) {
      const result = await must(`npm pack ${folder}`, runCommand('npm', ['pack', '--json', '--pack-destination', join(work, 'tarballs')], { cwd: join(root, folder), timeoutMs: 60_000 }));
      const [info] = JSON.parse(result.stdout) as Packed[];
      packed.set(folder, info as Packed);
    }
  });

  after(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('each tarball holds its built entry points with types, LICENSE and README, and no tests, sources or source maps', () => {
    const entries: Record<PackageFolder, string[]> = {
      client: ['dist/client/index.js', 'dist/client/index.d.ts'],
      recipes: ['dist/recipes/index.js', 'dist/recipes/index.d.ts'],
      server: ['dist/server/main.js', 'dist/server/embed.js', 'dist/server/embed.d.ts', 'proto/etcdserverpb/rpc.proto', 'dist/console/index.html'],
    };
    for (const folder of packages) {
      const info = packed.get(folder) as Packed;
      const paths = info.files.map((file) => file.path);
      console.log(`      ${info.name}: ${info.filename}, ${(info.size / 1024).toFixed(0)} KiB packed, ${(info.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${paths.length} files`);
      expect(paths, info.name).to.include.members(['package.json', 'LICENSE', 'README.md', ...entries[folder]]);
      expect(paths.filter((path) => /\.test\.|\.map$|(?<!\.d)\.ts$|^test\//.test(path)), `${info.name}: files that do not belong`).to.deep.equal([]);
      const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')) as { scripts?: Record<string, string>; license: string };
      expect(manifest.scripts, `${info.name} runs no script at install`).to.equal(undefined);
      expect(manifest.license).to.equal('Apache-2.0');
    }
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).to.include('Apache License');
    // The recipes depend on the SDK package; they carry no copy of it.
    expect((packed.get('recipes') as Packed).files.map((file) => file.path).filter((path) => path.startsWith('dist/client/'))).to.deep.equal([]);
  });

  it('an app with only the SDK and the recipes gets none of the server\'s dependencies', async () => {
    const app = join(work, 'sdk-app');
    mkdirSync(app);
    await installApp(app, [tarball('client'), tarball('recipes')]);
    const installed = installedPackages(app);
    console.log(`      SDK-only app: ${installed.length} packages installed (${rxjs} included)`);
    expect(installed).to.include.members(['node_modules/@cairn-kv/client', 'node_modules/@cairn-kv/recipes', 'node_modules/@grpc/grpc-js', 'node_modules/rxjs']);
    expect(installed.filter((path) => /lmdb|node-rs|pino|prom-client|@cairn-kv\/server/.test(path))).to.deep.equal([]);
    const imported = await must('import', runCommand(process.execPath, ['--input-type=module', '-e', "const sdk = await import('@cairn-kv/client'); const recipes = await import('@cairn-kv/recipes'); console.log(typeof sdk.connect, typeof recipes.Mutex)"], { cwd: app }));
    expect(imported.stdout.trim()).to.equal('function function');
  });

  it('a program imports all three by name and works against the installed cairn bin and an embedded server', async () => {
    const app = join(work, 'full-app');
    mkdirSync(app);
    await installApp(app, packages.map(tarball));
    const bin = join(app, 'node_modules', '.bin', 'cairn');
    expect(existsSync(bin)).to.equal(true);
    writeFileSync(join(app, 'program.mjs'), program);
    const clientUrl = `http://127.0.0.1:${await freePort()}`;
    const peerUrl = `http://127.0.0.1:${await freePort()}`;
    const dataDir = join(work, 'data');
    let server: ServerProcess | undefined;
    try {
      server = await launch({
        kind: 'cairn',
        command: process.execPath,
        args: [bin, '--data-dir', dataDir, '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl, '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `default=${peerUrl}`],
        clientUrl,
        dataDir,
        ownsDir: false,
      });
      const ran = await must('program', runCommand(process.execPath, ['program.mjs', server.endpoint], { cwd: app, timeoutMs: 60_000 }));
      expect(JSON.parse(ran.stdout)).to.deep.equal({ value: 'hello', fenced: true, leader: 'program', members: [clientUrl], embedded: 'inside' });
      // The installed server serves the web console it was packed with.
      const consolePage = await fetch(`${clientUrl}/ui/`);
      expect(consolePage.status).to.equal(200);
      expect(await consolePage.text()).to.match(/<title>cairn console<\/title>[\s\S]*\/ui\/assets\/index-[\w-]+\.js/);
    } finally {
      await server?.destroy();
    }
  });
});

/** What an application would write: nothing but the package names. */
const program = `
import { connect, op } from '@cairn-kv/client';
import { Election, Mutex, Session } from '@cairn-kv/recipes';
import { startEmbeddedServer } from '@cairn-kv/server';

const client = await connect({ endpoints: [process.argv[2]] });
await client.put('greeting', 'hello');
const value = (await client.get('greeting'))?.value.toString();
const session = await Session.create(client, { ttlSeconds: 5 });
const held = await new Mutex(session, 'jobs').lock();
const fenced = (await client.txn().if(held.guard()).then([op.put('jobs/state', 'done')]).commit()).succeeded;
await held.unlock();
// Leading lasts as long as the subscription: it ends after the leader is read.
let leading;
await new Promise((resolve, reject) => {
  leading = new Election(session, 'leader').campaign('program').subscribe({ next: (leadership) => leadership.state === 'elected' && resolve(), error: reject });
});
const leader = (await Election.leader(client, 'leader')).value;
leading.unsubscribe();
const members = (await client.cluster.memberList()).members.flatMap((member) => member.clientUrls);
await session.close();
client.close();

const embedded = await startEmbeddedServer();
const inside = await connect({ endpoints: [embedded.endpoint] });
await inside.put('where', 'inside');
const where = (await inside.get('where'))?.value.toString();
inside.close();
await embedded.stop();
console.log(JSON.stringify({ value, fenced, leader, members, embedded: where }));
`;
